"""`python -m inat export`: a valid ONNX model that ONNX Runtime runs with PyTorch's numbers.

Small models (Lite0 with a 4-class head, 32-pixel inputs) and generated calibration photos;
nothing here needs ../shared.
"""
import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from inat.bundle import Bundle, load_bundle
from inat.cli import main
from inat.export import (FILES, ExportError, check_session, export_dir, export_int8, export_onnx, find_exported,
                         open_session)
from inat.predict import Predictor, load_model
from inat.preprocess import Preprocess
from util import TAXA, make_bundle


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "tiny"
    make_bundle(folder)
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Twelve small generated JPEGs to calibrate on."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(12):
        px = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
        Image.fromarray(px).resize((60, 45), Image.BICUBIC).save(folder / f"p{i}.jpg")
    return folder


def test_export_writes_an_onnx_model_that_matches_pytorch(tiny):
    bundle = load_bundle(tiny)
    out = export_onnx(bundle)
    assert out == tiny / "model.onnx" and find_exported(bundle) == out
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["inat_kind"] == "fp32" and meta["inat_arch"] == "efficientnet_lite0"
    # TF-style "SAME" padding is traced as constants: no run-time shape arithmetic left to quantize.
    assert not {"Shape", "Ceil"} & {n.op_type for n in model.graph.node}
    x = torch.randn(3, 3, 32, 32)  # another batch size than the export's example
    with torch.inference_mode():
        ref = load_model(bundle)(x).numpy()
    session = open_session(out)
    got = session.run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    assert check_session(session, bundle, out)["inat_fingerprint"]
    assert not list(tiny.glob("*.tmp"))


def test_a_torchvision_architecture_exports_too(tmp_path):
    make_bundle(tmp_path / "b0", arch="efficientnet_b0")
    bundle = load_bundle(tmp_path / "b0")
    out = export_onnx(bundle)
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        ref = load_model(bundle)(x).numpy()
    np.testing.assert_allclose(open_session(out).run(None, {"input": x.numpy()})[0], ref, atol=1e-4, rtol=1e-4)


def test_an_export_from_other_weights_is_refused(tiny, tmp_path):
    import shutil
    folder = tmp_path / "b"
    shutil.copytree(tiny, folder)
    export_onnx(load_bundle(folder))
    make_bundle(folder, seed=3)  # the bundle is retrained after the export
    bundle = load_bundle(folder)
    with pytest.raises(ExportError, match="stale"):
        check_session(open_session(folder / FILES["fp32"]), bundle, folder / FILES["fp32"])
    with pytest.raises(ExportError, match="unreadable"):
        (folder / "junk.onnx").write_bytes(b"\x00" * 10)
        open_session(folder / "junk.onnx")


def test_builtin_models_export_to_the_cache_and_are_found_there(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("INAT_CACHE", str(tmp_path / "cache"))
    state = load_bundle(tiny).state_dict()
    builtin = Bundle(name="builtin", arch="efficientnet_lite0", classes=list(TAXA), preprocess=Preprocess(input_size=32),
                     provenance={"weights": "test weights v1"}, state_loader=lambda: state)
    assert export_dir(builtin) == tmp_path / "cache" / "builtin"
    out = export_onnx(builtin)
    assert out == tmp_path / "cache" / "builtin" / "model.onnx"
    p = Predictor(builtin)
    assert p.backend == "onnx"
    assert p.predict([Image.new("RGB", (80, 60), "green")], k=2)[0]["error"] is None


def test_cli_export_with_int8_calibrated_on_a_folder(tiny, photos, tmp_path, capsys):
    import shutil
    folder = tmp_path / "b"
    shutil.copytree(tiny, folder)
    assert main(["export", "--model", str(folder), "--format", "onnx", "--int8", "--calibration", str(photos)]) == 0
    out = capsys.readouterr().out
    assert "model.onnx" in out and "model.int8.onnx" in out and "held-out photos" in out
    int8 = folder / FILES["int8"]
    meta = check_session(open_session(int8), load_bundle(folder), int8)
    assert meta["inat_kind"] == "int8" and int(meta["agreement_photos"]) == 6
    assert 0 <= float(meta["agreement_top1"]) <= 1 and "6 photos" in meta["calibration"]
    assert "QuantizeLinear" in {n.op_type for n in onnx.load(str(int8)).graph.node}
    # Six photos are too few to trust: int8 is opt-in here, fp32 ONNX stays the default.
    assert Predictor(str(folder)).backend == "onnx"
    r = Predictor(str(folder), backend="onnx-int8").predict([next(photos.glob("*.jpg"))], k=3)[0]
    assert r["error"] is None and len(r["predictions"]) == 3


def test_int8_needs_photos(tiny, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="--calibration"):
        export_int8(load_bundle(tiny), tmp_path / "empty")


def test_export_help_names_the_calibration_default(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "shared/data" in capsys.readouterr().out.replace("\n", " ")
