"""inat.runtime.engine: which backend runs a bundle (int8, fp32 ONNX, PyTorch), decoding and preprocessing.

Small models (Lite0 with a 4-class head, 32-pixel inputs, the `exported` fixture); nothing needs ../shared.
"""
import logging

import numpy as np
import pytest
from conftest import TAXA, copy_bundle, make_bundle
from PIL import Image

from inat.core.preprocess import ArrayTransform, draft_size, eval_transform
from inat.core.probability import softmax
from inat.models.bundle import BundleError, load_bundle
from inat.runtime.engine import Engine
from inat.runtime.onnx_backend import FILES

IMAGES = [Image.new("RGB", (50, 40), "red"), Image.new("RGB", (10, 90), "blue")]


def engine(folder, **kw) -> Engine:
    return Engine(load_bundle(folder), **kw)


def test_onnx_is_used_when_present_and_gives_pytorchs_numbers(exported):
    fast, torch_ = engine(exported, precision="fp32"), engine(exported, backend="torch")
    assert (fast.backend, torch_.backend) == ("onnx", "torch") and torch_.exported is None
    x = fast.inputs(IMAGES)
    np.testing.assert_allclose(fast.logits(x), torch_.logits(x), atol=1e-4, rtol=1e-4)
    p = fast.probabilities(x)
    assert p.shape == (2, len(TAXA)) and np.allclose(p.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(p, torch_.probabilities(x), atol=1e-5)
    assert fast.probabilities(x[:0]).shape == (0, len(TAXA))


def test_the_pytorch_model_is_there_on_demand(exported):
    import torch
    fast = engine(exported)
    assert fast._model is None  # an export serves: no PyTorch model built at start
    assert isinstance(fast.model, torch.nn.Module) and not fast.model.training


def test_falls_back_to_pytorch_without_an_export(exported, tmp_path):
    e = engine(copy_bundle(exported, tmp_path / "b", exports=False))
    assert e.backend == "torch" and e.exported is None
    assert e.probabilities(e.inputs(IMAGES)).shape == (2, len(TAXA))


def test_a_corrupt_export_falls_back_with_one_warning_line(exported, tmp_path, caplog):
    folder = copy_bundle(exported, tmp_path / "b")
    (folder / FILES["fp32"]).write_bytes(b"not an onnx model at all")
    with caplog.at_level(logging.WARNING, logger="inat"):
        e = engine(folder)
    assert e.backend == "torch"
    [record] = [r for r in caplog.records if r.name == "inat"]
    msg = record.getMessage()
    assert "model.onnx" in msg and "unreadable" in msg and "using PyTorch instead" in msg and "\n" not in msg
    with pytest.raises(BundleError, match="unreadable"):
        engine(folder, backend="onnx")  # asked for explicitly: an error, not a fallback


def test_a_stale_export_is_never_used(exported, tmp_path, caplog):
    folder = copy_bundle(exported, tmp_path / "b")
    make_bundle(folder, seed=1)  # retrained: new weights, old model.onnx
    with caplog.at_level(logging.WARNING, logger="inat"):
        e = engine(folder)
    assert e.backend == "torch"
    assert any("stale" in r.getMessage() for r in caplog.records if r.name == "inat")


def test_exact_and_forced_backends(exported):
    assert engine(exported, exact=True).backend == "torch"
    assert engine(exported, backend="torch").backend == "torch"
    assert engine(exported, backend="onnx").backend == "onnx"
    # ONNX Runtime's static int8 is no backend any more (it kept 59 % of fp32's answers): refused by name.
    for gone in ("onnx-int8", "tensorrt"):
        with pytest.raises(ValueError, match="backend must be one of auto, torch, onnx, openvino, openvino-bf16"):
            engine(exported, backend=gone)


def test_exact_decodes_at_full_size_with_the_torchvision_transform(exported):
    pre = load_bundle(exported).preprocess
    exact, fast = engine(exported, exact=True), engine(exported, backend="torch")
    assert exact.draft is None and fast.draft == draft_size(pre) == 74  # 2 × round(32 / 0.875)
    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8))
    want = eval_transform(pre)(im).numpy()
    np.testing.assert_allclose(exact.inputs([im])[0], want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fast.inputs([im])[0], ArrayTransform(pre)(im), rtol=0, atol=0)
    np.testing.assert_allclose(exact.logits(exact.inputs([im])), fast.logits(fast.inputs([im])), atol=1e-4)


def test_softmax_is_stable():
    p = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), -np.inf]]))
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], atol=1e-7)
