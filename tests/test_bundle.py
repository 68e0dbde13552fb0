"""inat.models.bundle: the on-disk format, the one model loader, atomic saves, and files that are not bundles."""
import json
import os
import pickle

import pytest
from conftest import REPO, TAXA, make_bundle

from inat.core.preprocess import Preprocess
from inat.models.bundle import (JSON_NAME, PENDING_NAME, WEIGHTS_NAME, Bundle, BundleError, load_bundle,
                                looks_like_pickle, read_weights_id, save_bundle, settle, write_json_atomic)


def test_round_trip_is_self_describing(tmp_path):
    b = make_bundle(tmp_path / "tiny", history=[{"epoch": 1, "val_top1": 0.5}], metrics={"val_top1": 0.5})
    meta = json.loads((tmp_path / "tiny" / JSON_NAME).read_text())
    assert list(meta)[:4] == ["format", "version", "name", "arch"]
    assert (meta["format"], meta["version"]) == ("inat-bundle", 1)
    assert meta["arch"] == "efficientnet_lite0" and meta["preprocess"]["input_size"] == 32
    assert [c["class_id"] for c in meta["classes"]] == [t.class_id for t in TAXA]
    assert [c["index"] for c in meta["classes"]] == [0, 1, 2, 3]
    assert meta["weights_id"] == b.weights_id == read_weights_id(tmp_path / "tiny" / WEIGHTS_NAME)
    back = load_bundle(tmp_path / "tiny")
    assert back.classes == TAXA and back.preprocess == b.preprocess and back.history == b.history
    assert back.path == tmp_path / "tiny" and back.weights_id == b.weights_id
    assert load_bundle(tmp_path / "tiny" / JSON_NAME).name == "tiny"


def test_the_committed_bundles_load_unchanged():
    # The format is a contract: the bundle in weights/ and the run records in runs/ load as they are.
    b = load_bundle(REPO / "weights" / "plants47")
    assert b.arch == "efficientnet_lite0" and len(b.classes) == 47 and b.weights_id
    assert b.current_weights_id() == b.weights_id  # the weights file is the one bundle.json describes
    model = b.load_model()
    assert model.classifier.out_features == 47
    records = sorted((REPO / "runs").glob(f"*/{JSON_NAME}"))
    assert records
    for f in records:
        assert load_bundle(f.parent).history, f


def test_calibration_and_scope_travel_with_the_bundle(tmp_path):
    plain = make_bundle(tmp_path / "plain")
    meta = json.loads((tmp_path / "plain" / JSON_NAME).read_text())
    assert "calibration" not in meta and "scope" not in meta and plain.temperature == 1.0  # optional keys
    scope = {"rank": "genus", "name": "Corvus", "description": "two crows"}
    make_bundle(tmp_path / "b", calibration={"method": "temperature", "temperature": 1.5}, scope=scope)
    b = load_bundle(tmp_path / "b")
    assert b.temperature == 1.5 and b.scope == scope and not b.expert
    make_bundle(tmp_path / "e", expert=True)
    assert json.loads((tmp_path / "e" / JSON_NAME).read_text())["expert"] is True and load_bundle(tmp_path / "e").expert


@pytest.mark.parametrize("key, value, match", [
    ("calibration", {"temperature": 0}, "calibration temperature 0 is not a number in 0.01..100"),
    ("calibration", {"temperature": "2"}, "calibration temperature"), ("calibration", {"temperature": True}, "temperature"),
    ("calibration", [2.0], "calibration must be an object"),
    ("calibration", {"method": "isotonic"}, "calibration method 'isotonic' is not one of temperature, beta"),
    ("calibration", {"method": "beta", "temperature": 1.0}, "calibration beta must hold finite numbers a, b and c"),
    ("calibration", {"method": "beta", "beta": {"a": -1, "b": 1, "c": 0}}, "a and b must be ≥ 0"),
    ("scope", {"rank": "tribe", "name": "Felini"}, "scope rank 'tribe' is not one of kingdom"),
    ("scope", {"rank": "genus"}, "scope must be an object"), ("scope", "Plantae", "scope must be an object")])
def test_calibration_and_scope_are_checked_when_read(tmp_path, key, value, match):
    make_bundle(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / JSON_NAME).read_text())
    (tmp_path / "b" / JSON_NAME).write_text(json.dumps({**meta, key: value}))
    with pytest.raises(BundleError, match=match):
        load_bundle(tmp_path / "b")


def test_weights_are_fp16_on_disk_and_fp32_in_memory(tmp_path):
    import torch
    from safetensors import safe_open
    make_bundle(tmp_path / "b")
    with safe_open(str(tmp_path / "b" / WEIGHTS_NAME), "pt") as f:
        assert f.get_tensor("classifier.weight").dtype == torch.float16
        assert f.metadata()["format"] == "inat-bundle"
    model = load_bundle(tmp_path / "b").load_model()
    assert next(model.parameters()).dtype == torch.float32 and not model.training


def test_the_loader_gives_the_model_an_ordinary_build_gives(tmp_path):
    # load_model builds on the meta device and assigns the weights: it must equal create + load_state_dict.
    import torch

    from inat.models.architectures import create_model
    b = make_bundle(tmp_path / "b", arch="efficientnet_b0")
    fast = load_bundle(tmp_path / "b").load_model()
    slow = create_model("efficientnet_b0", len(TAXA))
    slow.load_state_dict(b.state_dict())
    slow.eval()
    a, c = fast.state_dict(), slow.state_dict()
    assert set(a) == set(c) and all(a[k].equal(c[k]) for k in a)
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        assert fast(x).equal(slow(x))


@pytest.mark.parametrize("damage, match", [
    (lambda d: (d / JSON_NAME).unlink(), "bundle.json: missing"),
    (lambda d: (d / JSON_NAME).write_text("{\"format\": "), "bundle.json: corrupt JSON"),
    (lambda d: (d / JSON_NAME).write_text(json.dumps({"format": "inat-bundle", "arch": "nope"})), "unknown architecture"),
    (lambda d: (d / JSON_NAME).write_text(json.dumps({"format": "other", "arch": "resnet50"})), "format is 'other'"),
    (lambda d: (d / WEIGHTS_NAME).unlink(), "model.safetensors: weights file missing"),
    (lambda d: (d / WEIGHTS_NAME).write_bytes(b"\x00" * 100), "model.safetensors: not a readable"),
    (lambda d: (d / WEIGHTS_NAME).write_bytes((d / WEIGHTS_NAME).read_bytes()[:5000]), "model.safetensors"),
], ids=["no-json", "corrupt-json", "unknown-arch", "other-format", "no-weights", "zero-weights", "cut-weights"])
def test_damaged_bundles_fail_with_the_file_named(tmp_path, damage, match):
    make_bundle(tmp_path / "b")
    damage(tmp_path / "b")
    with pytest.raises(BundleError, match=match) as e:
        load_bundle(tmp_path / "b").load_model()
    assert "\n" not in str(e.value) and str(tmp_path / "b") in str(e.value)


def test_weights_of_another_architecture_are_refused(tmp_path):
    make_bundle(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / JSON_NAME).read_text())
    meta["arch"] = "resnet50"
    (tmp_path / "b" / JSON_NAME).write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="do not match architecture resnet50 with 4 outputs"):
        load_bundle(tmp_path / "b").load_model()


class Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_offered_as_model_is_refused_unopened(tmp_path):
    marker = tmp_path / "pwned"
    f = tmp_path / "model.pt"
    f.write_bytes(pickle.dumps(Evil(marker), protocol=4))
    assert looks_like_pickle(f)
    with pytest.raises(BundleError, match="never loaded as a model.*--trust-pickle"):
        load_bundle(f)
    assert not marker.exists()
    (tmp_path / "notes.txt").write_text("hello")
    assert not looks_like_pickle(tmp_path / "notes.txt") and not looks_like_pickle(tmp_path / "missing")
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(tmp_path / "notes.txt")


def test_read_weights_id_reads_only_the_header(tmp_path):
    b = make_bundle(tmp_path / "b")
    assert read_weights_id(tmp_path / "b" / WEIGHTS_NAME) == b.weights_id and len(b.weights_id) == 32
    (tmp_path / "junk").write_bytes(b"\xff" * 64)
    (tmp_path / "short").write_bytes(b"\x05")
    for f in ("junk", "short", "missing"):
        assert read_weights_id(tmp_path / f) is None


def test_current_weights_id(tmp_path):
    from safetensors.torch import load_file, save_file
    b = make_bundle(tmp_path / "b")
    assert b.current_weights_id() == b.weights_id
    # Weights written by another tool carry no id: a digest of the file stands in, and changes with it.
    state = load_file(str(tmp_path / "b" / WEIGHTS_NAME))
    save_file(state, str(tmp_path / "b" / WEIGHTS_NAME))
    foreign = load_bundle(tmp_path / "b").current_weights_id()
    assert foreign.startswith("sha256:") and foreign == load_bundle(tmp_path / "b").current_weights_id()
    state["classifier.bias"] += 1
    save_file(state, str(tmp_path / "b" / WEIGHTS_NAME))
    assert load_bundle(tmp_path / "b").current_weights_id() not in (foreign, b.weights_id)
    # A built-in has no file: its declared weights_id (else its name) identifies it.
    builtin = Bundle(name="builtin", arch="efficientnet_lite0", classes=TAXA, preprocess=Preprocess(input_size=32),
                     weights_id="package 1.0")
    assert builtin.weights_file is None and builtin.current_weights_id() == "package 1.0"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def _save_killed_at(monkeypatch, folder, bundle, model, replace_no):
    """save_bundle, killed just before its `replace_no`-th os.replace."""
    import inat.models.bundle
    calls = []
    real = os.replace

    def replace(a, b):
        calls.append(b)
        if len(calls) == replace_no:
            raise Killed
        real(a, b)

    monkeypatch.setattr(inat.models.bundle.os, "replace", replace)
    with pytest.raises(Killed):
        save_bundle(bundle, folder, model)
    monkeypatch.setattr(inat.models.bundle.os, "replace", real)


@pytest.mark.parametrize("replace_no, wins", [(1, "old"), (2, "old"), (3, "new")])
def test_a_save_killed_anywhere_leaves_weights_that_match_bundle_json(tmp_path, monkeypatch, replace_no, wins):
    # os.replace #1: weights → model.safetensors.pending, #2: bundle.json (the commit), #3: pending → model.
    import torch

    from inat.models.architectures import create_model
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
    assert b.weights_file == folder / (PENDING_NAME if wins == "new" else WEIGHTS_NAME)
    settle(folder)  # what `train --resume` does first
    assert not (folder / PENDING_NAME).exists() and not list(folder.glob("*.tmp"))
    assert float(load_bundle(folder).state_dict()["classifier.bias"][0] == 0.25) == (wins == "new")
    assert load_bundle(folder).weights_file == folder / WEIGHTS_NAME


def test_saved_files_are_world_readable(tmp_path):
    make_bundle(tmp_path / "b")
    for name in (JSON_NAME, WEIGHTS_NAME):
        assert (tmp_path / "b" / name).stat().st_mode & 0o777 == 0o644


def test_write_json_atomic_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / JSON_NAME
    write_json_atomic(path, {"history": [1]})

    def broken_dump(obj, f, **kw):
        f.write('{"history": [1, 2')  # half an object, then the process "dies"
        raise KeyboardInterrupt
    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(path, {"history": [1, 2]})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"history": [1]}
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
