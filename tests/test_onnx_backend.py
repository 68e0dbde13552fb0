"""inat.runtime.onnx_backend: opening an exported model, and refusing one that is stale, unreadable or of the wrong shape."""
from pathlib import Path

import numpy as np
import pytest
from conftest import TAXA, copy_bundle, make_bundle

from inat.core.preprocess import Preprocess
from inat.models.bundle import Bundle, load_bundle
from inat.runtime.onnx_backend import (FILES, ExportedModelError, OnnxModel, cache_dir, export_command, export_dir,
                                       open_exported)


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("INAT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("INAT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "inat"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "inat"


def test_exports_live_beside_a_bundle_or_in_the_cache(exported, monkeypatch, tmp_path):
    assert export_dir(load_bundle(exported)) == exported
    monkeypatch.setenv("INAT_CACHE", str(tmp_path))
    builtin = Bundle(name="builtin", arch="efficientnet_lite0", classes=TAXA, preprocess=Preprocess(input_size=32))
    assert export_dir(builtin) == tmp_path / "builtin"
    assert export_command(load_bundle(exported)) == f"python -m inat export --model {exported} --format onnx"


def test_open_an_export_and_run_it(exported):
    bundle = load_bundle(exported)
    model = open_exported(bundle, "fp32")
    assert isinstance(model, OnnxModel) and model.file == exported / FILES["fp32"]
    assert model.meta["inat_format"] == "inat-onnx" and model.meta["inat_kind"] == "fp32"
    assert model.meta["inat_weights_id"] == bundle.current_weights_id() == bundle.weights_id
    logits = model.run(np.zeros((3, 3, 32, 32), dtype=np.float64))  # any float input is made float32
    assert logits.shape == (3, len(TAXA)) and logits.dtype == np.float32
    # ONNX Runtime's static int8 is gone (it kept 59 % of fp32's answers): there is no such file to open.
    assert list(FILES) == ["fp32"]


def test_a_stale_export_is_refused(exported, tmp_path):
    folder = copy_bundle(exported, tmp_path / "b")
    make_bundle(folder, seed=3)  # retrained after the export: new weights, old model.onnx
    with pytest.raises(ExportedModelError, match="stale.*python -m inat export") as e:
        open_exported(load_bundle(folder))
    assert str(folder / FILES["fp32"]) in str(e.value) and "\n" not in str(e.value)


def test_an_unreadable_export_is_refused(exported, tmp_path):
    folder = copy_bundle(exported, tmp_path / "b")
    (folder / FILES["fp32"]).write_bytes(b"\x00" * 10)
    with pytest.raises(ExportedModelError, match="model.onnx: unreadable ONNX model") as e:
        open_exported(load_bundle(folder))
    assert "\n" not in str(e.value)


def test_an_export_of_another_shape_is_refused(exported, tmp_path):
    import json
    folder = copy_bundle(exported, tmp_path / "b")
    meta = json.loads((folder / "bundle.json").read_text())
    meta["preprocess"]["input_size"] = 48  # same weights (same id), other input size
    (folder / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(ExportedModelError, match="the bundle needs \\[N, 3, 48, 48\\]"):
        open_exported(load_bundle(folder))


def test_an_onnx_file_not_made_by_inat_is_refused(exported, tmp_path):
    import onnx
    folder = copy_bundle(exported, tmp_path / "b")
    model = onnx.load(str(folder / FILES["fp32"]))
    del model.metadata_props[:]
    onnx.save(model, str(folder / FILES["fp32"]))
    with pytest.raises(ExportedModelError, match="not exported by inat export"):
        open_exported(load_bundle(folder))
