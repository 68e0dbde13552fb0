"""inat.models.architectures: the registry builds every architecture the thesis compared, with any head size."""
import pytest
import torch

from inat.models.architectures import create_model, get_spec, get_submodule, list_models, load_imagenet_weights

THESIS_ARCHS = {"alexnet", "resnet50", "efficientnet_b0", "efficientnet_b3", "efficientnet_v2_s", "densenet121",
                "vgg19", "efficientnet_lite0"}
EXPERT_ARCHS = {"mobilenet_v2_tf"}  # the iNat 2017 experts' network (inat/models/tflite_convert.py)


def test_registry_holds_the_thesis_architectures():
    assert set(list_models()) == THESIS_ARCHS | EXPERT_ARCHS


@pytest.mark.parametrize("arch, classes", [(a, 10_000) for a in sorted(THESIS_ARCHS | EXPERT_ARCHS)]
                         + [("efficientnet_b0", 1)])
def test_every_architecture_builds_with_any_head(arch, classes):
    # Built on the meta device: shapes only, so even vgg19 costs no memory or time.
    with torch.device("meta"):
        model = create_model(arch, classes)
        head = get_submodule(model, get_spec(arch).head)
        assert head.out_features == classes
        side = 64 if arch == "alexnet" else 32
        assert model(torch.empty(2, 3, side, side)).shape == (2, classes)


def test_unknown_architecture_lists_the_valid_ones():
    with pytest.raises(ValueError, match="choose one of: alexnet, densenet121"):
        create_model("efficientnet_b7", 10)
    with pytest.raises(ValueError, match="at least 1"):
        create_model("resnet50", 0)


def test_imagenet_weights_come_from_local_files_only(tmp_path, monkeypatch):
    # A 1000-way file in $INAT_IMAGENET_WEIGHTS under torchvision's own name: everything but the head is copied.
    spec = get_spec("efficientnet_b0")
    torch.manual_seed(0)
    imagenet = create_model("efficientnet_b0", 1000).state_dict()
    torch.save(imagenet, tmp_path / spec.imagenet_file)
    monkeypatch.setenv("INAT_IMAGENET_WEIGHTS", str(tmp_path))
    model = create_model("efficientnet_b0", 4)
    copied = load_imagenet_weights(model, "efficientnet_b0")
    own = model.state_dict()
    assert copied == len(own) - 2  # all but the head's weight and bias
    assert all(torch.equal(own[k], imagenet[k]) for k in own if not k.startswith(spec.head + "."))
    monkeypatch.setenv("INAT_IMAGENET_WEIGHTS", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="cannot be downloaded here"):
        load_imagenet_weights(model, "efficientnet_b0")


def test_mobilenet_v2_tf_pads_stride_2_convolutions_like_tensorflow():
    # TF "SAME" on an even input: the stride-2 3x3 convolution pads 0 before and 1 after, so output
    # pixel (0, 0) sees input rows/cols 0..2; symmetric padding (torchvision) would centre it on row 0.
    model = create_model("mobilenet_v2_tf", 3).eval()
    stem = model.conv_stem
    with torch.no_grad():
        stem.weight.zero_()
        stem.weight[0, 0, 0, 0] = 1.0  # picks the top-left input pixel of each 3x3 window
        x = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(1, 3, 1, 1)
        y = stem(x)
    assert y.shape[-2:] == (2, 2)
    assert y[0, 0].tolist() == [[0.0, 2.0], [8.0, 10.0]]
