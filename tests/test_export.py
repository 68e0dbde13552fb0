"""inat.runtime.export and `python -m inat export`: a valid ONNX model that ONNX Runtime runs with PyTorch's numbers.

Small models (Lite0 with a 4-class head, 32-pixel inputs) and generated calibration photos;
nothing here needs ../shared.
"""
import numpy as np
import onnx
import pytest
import torch
from conftest import TAXA, copy_bundle, make_bundle
from PIL import Image

from inat.cli.main import main
from inat.core.preprocess import Preprocess
from inat.identify.predict import Predictor
from inat.models.bundle import Bundle, load_bundle
from inat.runtime.export import ExportError, calibration_photos, export_onnx, split_photos
from inat.runtime.onnx_backend import FILES, OnnxModel, export_dir, open_exported
from inat.testing.photos import picture


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Twelve small generated JPEGs to calibrate on, one of them in a sub-folder."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "sub").mkdir()
    for i in range(12):
        picture(i, (60, 45)).save(folder / ("sub" if i == 0 else ".") / f"p{i}.jpg")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_export_writes_an_onnx_model_that_matches_pytorch(exported):
    bundle = load_bundle(exported)
    out = exported / FILES["fp32"]
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["inat_kind"] == "fp32" and meta["inat_arch"] == "efficientnet_lite0" and meta["inat_model"] == "tiny"
    assert (meta["inat_num_outputs"], meta["inat_input_size"]) == ("4", "32")
    assert meta["inat_weights_id"] == bundle.weights_id
    # TF-style "SAME" padding is traced as constants: no run-time shape arithmetic left to quantize.
    assert not {"Shape", "Ceil"} & {n.op_type for n in model.graph.node}
    x = torch.randn(3, 3, 32, 32)  # another batch size than the export's example
    with torch.inference_mode():
        ref = bundle.load_model()(x).numpy()
    np.testing.assert_allclose(OnnxModel(out).run(x.numpy()), ref, atol=1e-4, rtol=1e-4)
    assert not list(exported.glob("*.tmp"))


@pytest.mark.integration
def test_a_torchvision_architecture_exports_too(tmp_path):
    make_bundle(tmp_path / "b0", arch="efficientnet_b0")
    bundle = load_bundle(tmp_path / "b0")
    out = export_onnx(bundle)
    assert out == tmp_path / "b0" / FILES["fp32"]
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        ref = bundle.load_model()(x).numpy()
    np.testing.assert_allclose(open_exported(bundle).run(x.numpy()), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.integration
def test_builtin_models_export_to_the_cache_and_are_used_from_there(exported, tmp_path, monkeypatch):
    monkeypatch.setenv("INAT_CACHE", str(tmp_path / "cache"))
    state = load_bundle(exported).state_dict()
    builtin = Bundle(name="builtin", arch="efficientnet_lite0", classes=list(TAXA), preprocess=Preprocess(input_size=32),
                     provenance={"weights": "test weights v1"}, state_loader=lambda: state, weights_id="test weights v1")
    assert export_dir(builtin) == tmp_path / "cache" / "builtin"
    out = export_onnx(builtin)
    assert out == tmp_path / "cache" / "builtin" / FILES["fp32"]
    p = Predictor(builtin)
    assert p.backend == "onnx"
    assert p.predict([Image.new("RGB", (80, 60), "green")], k=2)[0].error is None


def test_calibration_photos_and_their_split(photos, tmp_path):
    found = calibration_photos(photos)
    assert [p.name for p in found] == sorted(f"p{i}.jpg" for i in range(1, 12)) + ["p0.jpg"]  # sorted by path
    cal, check = split_photos(found, 8, 300)
    assert len(cal) == 6 and len(check) == 6 and not set(cal) & set(check)  # at most half calibrates
    assert split_photos(found, 8, 300) == (cal, check)  # repeatable
    (tmp_path / "empty").mkdir()
    for empty in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(ExportError, match="no photos to calibrate int8 on; pass --calibration DIR"):
            calibration_photos(empty)


def test_export_help_says_int8_needs_calibration_photos(capsys):
    # The library knows no folder of photos: int8 calibrates on the folder the user names, and says so.
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    help = " ".join(capsys.readouterr().out.split())
    assert "(needed by --precision int8)" in help and "shared" not in help and "(default: the recipe's, 300)" in help
    with pytest.raises(ExportError, match="int8 needs real photos to calibrate on: pass --calibration DIR"):
        calibration_photos(None)


def test_precision_is_the_one_lower_precision_switch_of_export(exported, tmp_path, capsys):
    # No second int8 flag beside --precision: argparse refuses it before any work is done.
    folder = copy_bundle(exported, tmp_path / "b", exports=False)
    with pytest.raises(SystemExit) as e:
        main(["export", "--model", str(folder), "--int8"])
    assert e.value.code == 2 and "unrecognized arguments: --int8" in capsys.readouterr().err
    assert not (folder / FILES["fp32"]).exists()
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    help = " ".join(capsys.readouterr().out.split())
    assert "--precision {auto,fp32,bf16,int8}" in help and "--int8" not in help and "model.int8.onnx" not in help
