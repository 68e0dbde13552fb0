import json

import pytest

from inat.bundle import BundleError, load_bundle, resolve_bundle, save_bundle, list_bundles, default_model_name
from util import TAXA, make_bundle


def test_round_trip_is_self_describing(tmp_path):
    b = make_bundle(tmp_path / "tiny", history=[{"epoch": 1, "val_top1": 0.5}], metrics={"val_top1": 0.5})
    meta = json.loads((tmp_path / "tiny" / "bundle.json").read_text())
    assert meta["arch"] == "efficientnet_lite0" and meta["preprocess"]["input_size"] == 32
    assert [c["class_id"] for c in meta["classes"]] == [t.class_id for t in TAXA]
    back = load_bundle(tmp_path / "tiny")
    assert back.classes == TAXA and back.preprocess == b.preprocess and back.history == b.history
    assert load_bundle(tmp_path / "tiny" / "bundle.json").name == "tiny"


def test_weights_are_fp16_on_disk_and_fp32_in_memory(tmp_path):
    from safetensors import safe_open
    import torch
    make_bundle(tmp_path / "b")
    with safe_open(str(tmp_path / "b" / "model.safetensors"), "pt") as f:
        assert f.get_tensor("classifier.weight").dtype == torch.float16
    model = load_bundle(tmp_path / "b").build_model()
    assert next(model.parameters()).dtype == torch.float32 and not model.training


@pytest.mark.parametrize("damage, match", [
    (lambda d: (d / "bundle.json").unlink(), "bundle.json: missing"),
    (lambda d: (d / "bundle.json").write_text("{\"format\": "), "bundle.json: corrupt JSON"),
    (lambda d: (d / "bundle.json").write_text(json.dumps({"format": "inat-bundle", "arch": "nope"})), "unknown architecture"),
    (lambda d: (d / "model.safetensors").unlink(), "model.safetensors: weights file missing"),
    (lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 100), "model.safetensors: not a readable"),
    (lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:5000]), "model.safetensors"),
])
def test_damaged_bundles_fail_with_the_file_named(tmp_path, damage, match):
    make_bundle(tmp_path / "b")
    damage(tmp_path / "b")
    with pytest.raises(BundleError, match=match):
        load_bundle(tmp_path / "b").build_model()


def test_weights_of_another_architecture_are_refused(tmp_path):
    make_bundle(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "bundle.json").read_text())
    meta["arch"] = "resnet50"
    (tmp_path / "b" / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="do not match architecture resnet50"):
        load_bundle(tmp_path / "b").build_model()


def test_pickle_offered_as_model_is_refused_unopened(tmp_path):
    import pickle
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    f = tmp_path / "model.pt"
    f.write_bytes(pickle.dumps(Evil(), protocol=4))
    with pytest.raises(BundleError, match="never loaded as a model.*--trust-pickle"):
        resolve_bundle(str(f))
    assert not marker.exists()


def test_names_and_default_in_weights_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path))
    make_bundle(tmp_path / "alpha")
    make_bundle(tmp_path / "beta", default=True)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bundle.json").write_text("{")
    assert [b.name for b in list_bundles()] == ["alpha", "beta"]
    assert default_model_name() == str(tmp_path / "beta")
    assert resolve_bundle("alpha").path == tmp_path / "alpha"
    with pytest.raises(BundleError, match="no such model; available: starter, alpha, beta"):
        resolve_bundle("gamma")


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def _save_killed_at(monkeypatch, folder, bundle, model, replace_no):
    """save_bundle, killed just before its `replace_no`-th os.replace."""
    import os
    import inat.bundle
    calls = []
    real = os.replace

    def replace(a, b):
        calls.append(b)
        if len(calls) == replace_no:
            raise Killed
        real(a, b)

    monkeypatch.setattr(inat.bundle.os, "replace", replace)
    with pytest.raises(Killed):
        save_bundle(bundle, folder, model)
    monkeypatch.setattr(inat.bundle.os, "replace", real)


@pytest.mark.parametrize("replace_no, wins", [(1, "old"), (2, "old"), (3, "new")])
def test_a_save_killed_anywhere_leaves_weights_that_match_bundle_json(tmp_path, monkeypatch, replace_no, wins):
    # os.replace #1: weights → model.safetensors.pending, #2: bundle.json (the commit), #3: pending → model.
    import torch
    from inat.bundle import PENDING_NAME, settle
    from inat.models import create_model
    folder = tmp_path / "b"
    old = make_bundle(folder, metrics={"val_top1": 0.1})
    new_model = create_model(old.arch, len(TAXA))
    torch.nn.init.constant_(new_model.classifier.bias, 0.25)
    new = load_bundle(folder)
    new.metrics = {"val_top1": 0.9}
    _save_killed_at(monkeypatch, folder, new, new_model, replace_no)
    b = load_bundle(folder)
    bias = float(b.state_dict()["classifier.bias"][0])
    assert (b.metrics["val_top1"], bias == 0.25) == ((0.9, True) if wins == "new" else (0.1, False))
    settle(folder)  # what `train --resume` does first
    assert not (folder / PENDING_NAME).exists() and not list(folder.glob("*.tmp"))
    assert float(load_bundle(folder).state_dict()["classifier.bias"][0] == 0.25) == (wins == "new")
    assert load_bundle(folder).weights_file == folder / "model.safetensors"
