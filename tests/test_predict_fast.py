"""The fast inference path: torch-free preprocessing, weights loaded once, ONNX backend choice.

Small models (Lite0 with a 4-class head, 32-pixel inputs); nothing here needs ../shared.
"""
import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from inat.bundle import BundleError, load_bundle
from inat.export import FILES, _stamp, export_onnx
from inat.predict import FastPreprocess, Predictor, load_model
from inat.preprocess import Preprocess, eval_transform
from util import TAXA, make_bundle

CONTRACT_KEYS = ["image", "model", "in_scope", "predictions", "ancestor", "error"]
PRED_KEYS = ["class_id", "probability", "scientific_name", "common_name", "rank", "taxonomy"]


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    """A photo-like image: smooth colour fields, a little grain."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    grain = rng.normal(0, 8, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(im) + grain, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    """Three JPEG files, one large enough for reduced-scale decoding."""
    folder = tmp_path_factory.mktemp("jpegs")
    out = []
    for i, size in enumerate([(640, 480), (300, 400), (1600, 1200)]):
        photo(*size, seed=i).save(folder / f"p{i}.jpg", quality=90)
        out.append(str(folder / f"p{i}.jpg"))
    return out


def _photos():
    rng = np.random.default_rng(0)
    sizes = [(1, 1), (2, 700), (700, 2), (224, 224), (256, 256), (257, 300), (500, 375), (375, 500), (33, 31)]
    out = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    return out + [photo(640, 480)]


@pytest.mark.parametrize("pre", [
    Preprocess(),                                                          # shorter side, bilinear, crop 0.875
    Preprocess(input_size=224, resize="squash"),                           # the thesis
    Preprocess(input_size=224, interpolation="bicubic", mean=(0.5,) * 3, std=(0.5,) * 3),  # Lite0
    Preprocess(input_size=32, interpolation="nearest", crop_pct=1.0),
    Preprocess(input_size=64, crop_pct=1.3),                               # crop larger than the resize: padded
], ids=["default", "squash", "lite0", "nearest32", "padded"])
def test_fast_preprocessing_equals_eval_transform(pre):
    fast, ref = FastPreprocess(pre), eval_transform(pre)
    photos = _photos()
    batch = fast.batch(photos)
    assert batch.shape == (len(photos), 3, pre.input_size, pre.input_size) and batch.dtype == np.float32
    for im, got in zip(photos, batch):
        np.testing.assert_allclose(got, ref(im).numpy(), rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A bundle folder with an up-to-date model.onnx beside it."""
    folder = tmp_path_factory.mktemp("fast") / "tiny"
    make_bundle(folder)
    export_onnx(load_bundle(folder))
    return folder


def _copy(src, dst, with_onnx=True):
    shutil.copytree(src, dst)
    if not with_onnx:
        (dst / FILES["fp32"]).unlink()
    return dst


def test_weights_are_loaded_without_a_second_build(exported):
    bundle = load_bundle(exported)
    fast, slow = load_model(bundle), bundle.build_model()
    a, b = fast.state_dict(), slow.state_dict()
    assert set(a) == set(b) and all(a[k].equal(b[k]) for k in a)
    import torch
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        assert fast(x).equal(slow(x))


def test_onnx_is_used_when_present_and_gives_the_same_answers(exported, jpegs):
    fast, torch_ = Predictor(str(exported)), Predictor(str(exported), backend="torch")
    assert fast.backend == "onnx" and torch_.backend == "torch"
    a, b = fast.predict(jpegs, k=4), torch_.predict(jpegs, k=4)
    for x, y in zip(a, b):
        assert list(x) == CONTRACT_KEYS and [list(p) for p in x["predictions"]] == [PRED_KEYS] * 4
        assert [p["class_id"] for p in x["predictions"]] == [p["class_id"] for p in y["predictions"]]
        assert np.allclose([p["probability"] for p in x["predictions"]],
                           [p["probability"] for p in y["predictions"]], atol=1e-5)


def test_falls_back_to_pytorch_without_an_export(exported, tmp_path, jpegs):
    p = Predictor(str(_copy(exported, tmp_path / "b", with_onnx=False)))
    assert p.backend == "torch" and p.session is None
    assert p.predict(jpegs[:1], k=2)[0]["error"] is None


def test_a_corrupt_export_falls_back_with_one_warning_line(exported, tmp_path, caplog):
    folder = _copy(exported, tmp_path / "b")
    (folder / FILES["fp32"]).write_bytes(b"not an onnx model at all")
    with caplog.at_level(logging.WARNING, logger="inat"):
        p = Predictor(str(folder))
    assert p.backend == "torch"
    [record] = [r for r in caplog.records if r.name == "inat"]
    msg = record.getMessage()
    assert "model.onnx" in msg and "unreadable" in msg and "\n" not in msg
    with pytest.raises(BundleError, match="unreadable"):
        Predictor(str(folder), backend="onnx")  # asked for explicitly: an error, not a fallback


def test_a_stale_export_is_never_used(exported, tmp_path, caplog):
    folder = _copy(exported, tmp_path / "b")
    make_bundle(folder, seed=1)  # retrained: new weights, old model.onnx
    with caplog.at_level(logging.WARNING, logger="inat"):
        p = Predictor(str(folder))
    assert p.backend == "torch"
    assert any("stale" in r.getMessage() for r in caplog.records if r.name == "inat")


def test_exact_and_forced_backends(exported, tmp_path):
    assert Predictor(str(exported), exact=True).backend == "torch"
    assert Predictor(str(exported), backend="torch").backend == "torch"
    assert Predictor(str(exported), backend="onnx").backend == "onnx"
    with pytest.raises(BundleError, match="python -m inat export"):
        Predictor(str(exported), backend="onnx-int8")
    with pytest.raises(ValueError, match="backend"):
        Predictor(str(exported), backend="tensorrt")


def test_int8_is_default_only_with_a_good_measured_agreement(exported, tmp_path):
    # The selection rule, without quantizing: a copy of the fp32 file labelled as int8.
    folder = _copy(exported, tmp_path / "b")
    bundle = load_bundle(folder)
    int8 = folder / FILES["int8"]
    shutil.copy(folder / FILES["fp32"], int8)
    _stamp(int8, bundle, "int8", {"agreement_top1": 0.95, "agreement_top5": 0.99, "agreement_photos": 300})
    assert Predictor(str(folder)).backend == "onnx"
    assert Predictor(str(folder), backend="onnx-int8").backend == "onnx-int8"  # opt-in still works
    _stamp(int8, bundle, "int8", {"agreement_top1": 0.995, "agreement_top5": 0.98, "agreement_photos": 300})
    assert Predictor(str(folder)).backend == "onnx-int8"
    _stamp(int8, bundle, "int8", {"agreement_top1": 1.0, "agreement_top5": 1.0, "agreement_photos": 12})
    assert Predictor(str(folder)).backend == "onnx"  # too few photos to know


def test_cli_predict_exact_runs_pytorch_and_keeps_the_contract(exported, jpegs, monkeypatch, capsys):
    import inat.predict
    from inat.cli import main
    made = []

    class Spy(inat.predict.Predictor):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(inat.predict, "Predictor", Spy)
    lines = {}
    for flag in ([], ["--exact"]):
        assert main(["predict", jpegs[0], "--model", str(exported), "--json", "--top", "3", *flag]) == 0
        lines[bool(flag)] = json.loads(capsys.readouterr().out)
    assert [p.backend for p in made] == ["onnx", "torch"] and made[1].exact
    fast, exact = lines[False], lines[True]
    assert list(fast) == list(exact) == CONTRACT_KEYS
    assert [list(p) for p in fast["predictions"]] == [PRED_KEYS] * 3
    assert [p["class_id"] for p in fast["predictions"]] == [p["class_id"] for p in exact["predictions"]]
    assert {p["class_id"] for p in fast["predictions"]} <= {t.class_id for t in TAXA}


def test_probabilities_accept_pil_images_on_every_backend(exported):
    ims = [Image.new("RGB", (50, 40), "red"), Image.new("RGB", (10, 90), "blue")]
    rows = [Predictor(str(exported), backend=b).probabilities(ims) for b in ("onnx", "torch")]
    assert rows[0].shape == (2, len(TAXA)) and np.allclose(rows[0].sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(rows[0], rows[1], atol=1e-5)
    assert Predictor(str(exported)).probabilities([]).shape == (0, len(TAXA))
