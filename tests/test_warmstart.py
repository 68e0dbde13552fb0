"""inat.training.warmstart: training from a bundle's weights, and batch-norm statistics for folded-BN bundles."""
from __future__ import annotations

import copy

import pytest
import torch
from conftest import TAXA, make_bundle

from inat.core.taxonomy import parse_folder_name
from inat.models.architectures import create_model
from inat.models.bundle import BundleError
from inat.training.warmstart import load_bundle_weights, recalibrate_batchnorm


def _identity_bn_net():
    """conv → BN (identity on its running statistics, as a converted folded-BN model has) → ReLU6 → conv."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8),
                              torch.nn.ReLU6(), torch.nn.Conv2d(8, 4, 1))
    with torch.no_grad():
        net[0].weight.mul_(4)
        bn = net[1]
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.linspace(-1, 1, 8))
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
    return net


def _train_mode(net, x):
    """The output in train mode (batch statistics), on a copy: a train-mode pass moves the running stats."""
    with torch.no_grad():
        return copy.deepcopy(net).train()(x)


def test_recalibration_keeps_the_eval_function_and_makes_train_mode_agree():
    net = _identity_bn_net()
    data = [torch.randn(16, 3, 8, 8) * 2 + 0.5 for _ in range(4)]
    probe = torch.randn(16, 3, 8, 8) * 2 + 0.5
    with torch.no_grad():
        before = net.eval()(probe)
    train_before = _train_mode(net, probe)
    assert (train_before - before).abs().max() > 0.5  # identity BN in train mode: a different function
    net.train()
    assert recalibrate_batchnorm(net, data) == 1
    assert net.training  # the mode it was in comes back
    with torch.no_grad():
        after = net.eval()(probe)
        feats = net[0](torch.cat(data))
    train_after = _train_mode(net, probe)
    assert torch.allclose(after, before, atol=1e-5)
    assert torch.allclose(net[1].running_mean, feats.mean(dim=(0, 2, 3)), atol=1e-4)
    assert torch.allclose(net[1].running_var, feats.var(dim=(0, 2, 3), unbiased=False), rtol=1e-4)
    assert (train_after - after).abs().max() < 0.25 * (train_before - before).abs().max()


def test_bundle_weights_fill_the_body_and_the_rows_of_shared_species(tmp_path):
    bundle = make_bundle(tmp_path / "b", arch="efficientnet_lite0", seed=1)
    new = parse_folder_name("09999_Fungi_Basidiomycota_Agaricomycetes_Agaricales_Amanitaceae_Amanita_muscaria")
    taxa = [TAXA[2], new]
    torch.manual_seed(5)
    model = create_model("efficientnet_lite0", len(taxa))
    info = load_bundle_weights(model, "efficientnet_lite0", tmp_path / "b", taxa)
    state = bundle.state_dict()
    assert info["head_rows"] == 1 and info["tensors"] == len(state) - 2
    got = model.state_dict()
    assert torch.equal(got["conv_stem.weight"], state["conv_stem.weight"])
    assert torch.equal(got["classifier.weight"][0], state["classifier.weight"][2])
    assert not torch.equal(got["classifier.weight"][1], state["classifier.weight"][3])


def test_bundle_of_another_architecture_is_refused_in_one_line(tmp_path):
    make_bundle(tmp_path / "b", arch="efficientnet_lite0")
    model = create_model("mobilenet_v2_tf", 2)
    with pytest.raises(BundleError, match="train it with --arch efficientnet_lite0"):
        load_bundle_weights(model, "mobilenet_v2_tf", tmp_path / "b", TAXA[:2])


def test_init_from_needs_a_pretrained_init():
    from inat.training.train import TrainConfig
    with pytest.raises(ValueError, match="--init imagenet or transfer"):
        TrainConfig(data="d", arch="mobilenet_v2_tf", out="o", init="scratch", init_from="weights/x")


def test_train_from_a_folded_bn_bundle(tiny_inat, tmp_path, capsys):
    from inat.training.train import TrainConfig, train
    make_bundle(tmp_path / "expert", arch="mobilenet_v2_tf", size=32, run={"batchnorm": "folded"})
    cfg = TrainConfig(data=str(tiny_inat), out=str(tmp_path / "ft"), arch="mobilenet_v2_tf", init="imagenet",
                      init_from=str(tmp_path / "expert"), epochs=1, batch_size=8, img_size=32, workers=0,
                      device="cpu")
    bundle = train(cfg, show=False)
    assert bundle.run["init"] == f"imagenet from {tmp_path / 'expert'}" and len(bundle.history) == 1
    assert "batch norm statistics of 52 layers measured" in capsys.readouterr().err
