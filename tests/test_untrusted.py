"""Untrusted checkpoints: damaged bundles fail with the file named, pickles are never unpickled.

tests/test_bundle.py covers the fixed cases (missing files, corrupt JSON, unknown architecture,
zeroed or cut weights, a pickle given to load_bundle). This module extends it:
  * hypothesis-mutated bundle.json (wrong types, missing keys, out-of-range numbers, random JSON),
    safetensors cut at random offsets and bit-flipped anywhere, tensors of the wrong dtype or shape:
    each either predicts with finite probabilities or raises BundleError naming the file, on one line;
  * a pickle that would create a file if it ran, offered as a model everywhere a model is taken
    (CLI predict/evaluate/labels/export --model, Predictor, registry.resolve, load_bundle, the app's
    model picker, a .pt renamed model.safetensors inside a bundle folder): refused, file not created;
    only `import --trust-pickle` unpickles it (and the file appears, proving the pickle is live).
The generators are reused by benchmarks/robustness.py with many more examples.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import app_identify, make_bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inat.models.bundle import BundleError, load_bundle
from inat.models.registry import list_bundles, resolve
from inat.testing.damaged import (Evil, apply, bundle_json_texts, bundle_with_weights_file, cut, flip_bits, retyped,
                                  try_bundle, write_mutant, write_pickles)
from inat.testing.photos import sample_photo

FAST_EXAMPLES = int(os.environ.get("INAT_HYPOTHESIS_EXAMPLES", "15"))  # each builds a predictor
pytestmark = pytest.mark.integration  # sweeps through the predictor, the CLI and the app
HYPO = dict(deadline=None, database=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A valid tiny bundle (efficientnet_lite0, 4 classes, 32 px) to damage copies of."""
    folder = tmp_path_factory.mktemp("untrusted") / "good"
    make_bundle(folder)
    return folder


@pytest.fixture(scope="module")
def photo() -> str:
    return sample_photo("lion.jpg")


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / "UNPICKLED"
    return write_pickles(tmp_path / "pickles", marker), marker


@settings(max_examples=FAST_EXAMPLES, **HYPO)
@given(data=st.data())
def test_mutated_bundle_json_predicts_or_names_the_file(good, photo, tmp_path, data):
    meta = json.loads((good / "bundle.json").read_text())
    text = data.draw(bundle_json_texts(meta))
    status, why = try_bundle(write_mutant(good, tmp_path / "m", text), photo)
    assert status != "FAIL", f"{why}\nbundle.json: {text[:600]}"


@pytest.mark.parametrize("field, value", [
    ("crop_pct", 0), ("crop_pct", -1), ("crop_pct", math.nan), ("crop_pct", 1e-3), ("crop_pct", math.inf),
    ("std", [0, 0, 0]), ("std", [1, 1, 1, 1]), ("mean", [0.5]), ("mean", [math.nan, 0, 0])])
def test_preprocess_values_are_checked_when_the_bundle_is_read(good, tmp_path, field, value):
    # Each would break later: crop_pct 0 divides by zero, 1e-3 resizes photos to 32,000 px a side (gigabytes)
    # before cropping, std 0 gives NaN probabilities, a short mean list an IndexError at predict time.
    meta = json.loads((good / "bundle.json").read_text())
    meta["preprocess"][field] = value
    folder = write_mutant(good, tmp_path / "p", json.dumps(meta))
    with pytest.raises(BundleError, match="bundle.json: invalid bundle"):
        load_bundle(folder)


@pytest.mark.parametrize("path, value", [
    (("num_outputs",), 2**64), (("num_outputs",), 10**9), (("num_outputs",), -1), (("num_outputs",), "4"),
    (("classes",), {"0": {}}), (("classes", 0), "Lumbricus"), (("classes", 0, "index"), "0"),
    (("classes", 0, "index"), 2**70), (("in_scope_threshold",), "high"), (("history",), {"epoch": 1}),
    (("num_outputs",), math.inf), (("classes", 0, "index"), math.inf), (("classes", 1, "class_id"), -math.inf),
    (("in_scope_threshold",), math.nan), (("in_scope_threshold",), 5)],
    ids=["outputs-2**64", "outputs-1e9", "outputs-neg", "outputs-str", "classes-dict", "class-str", "index-str",
         "index-huge", "threshold-str", "history-dict", "outputs-inf", "index-inf", "class-id-inf", "threshold-nan",
         "threshold-5"])
def test_top_level_fields_of_the_wrong_type(good, photo, tmp_path, path, value):
    # Found by hypothesis: num_outputs 2**64 reached torch (TypeError: overflow) and Infinity as an
    # integer raised OverflowError out of load_bundle (which list_bundles, the app's picker, does not catch).
    meta = apply(json.loads((good / "bundle.json").read_text()), path, "edge", value)
    status, why = try_bundle(write_mutant(good, tmp_path / "t", json.dumps(meta)), photo)
    assert status != "FAIL", why
    if status == "ok" and path == ("in_scope_threshold",):
        raise AssertionError(f"in_scope_threshold {value!r} accepted: every photo would be out of scope")


@pytest.mark.parametrize("path, value", [
    (("classes", 0, "taxonomy", "order"), [1, 2, 3]), (("classes", 0, "taxonomy", "genus"), {"a": 1}),
    (("classes", 1, "taxonomy", "family"), 7), (("classes", 0, "common_name"), ["Earthworm"]),
    (("classes", 0, "scientific_name"), {"x": 1}), (("classes", 0, "rank"), 3)],
    ids=["order-list", "genus-dict", "family-int", "common-list", "sciname-dict", "rank-int"])
def test_class_fields_of_the_wrong_type(good, photo, tmp_path, path, value):
    # A list as a taxonomy name would make every prediction raise TypeError (unhashable type) in the
    # roll-up: the bundle must be refused when read, or work.
    meta = apply(json.loads((good / "bundle.json").read_text()), path, "edge", value)
    status, why = try_bundle(write_mutant(good, tmp_path / "c", json.dumps(meta)), photo)
    assert status != "FAIL", why


def test_deeply_nested_json_is_corrupt_json(good, tmp_path, monkeypatch):
    folder = write_mutant(good, tmp_path / "weights" / "deep", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleError, match="deep/bundle.json: corrupt JSON"):
        load_bundle(folder)
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "weights"))
    assert list_bundles() == []  # skipped, not a crash of the model list (and of the app's picker)


@settings(max_examples=FAST_EXAMPLES, **HYPO)
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_weights_cut_anywhere_name_the_file(good, photo, tmp_path, fraction):
    data = (good / "model.safetensors").read_bytes()
    folder = tmp_path / "cut"
    shutil.rmtree(folder, ignore_errors=True)
    bundle_with_weights_file(good, folder, cut(data, int(fraction * len(data))))
    status, why = try_bundle(folder, photo)
    assert status == "refused" and "model.safetensors" in why, why


@settings(max_examples=FAST_EXAMPLES, **HYPO)
@given(positions=st.lists(st.integers(0, 2**40), min_size=1, max_size=8), in_header=st.booleans())
def test_weights_bit_flipped_predict_finitely_or_name_the_file(good, photo, tmp_path, positions, in_header):
    data = (good / "model.safetensors").read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    # Half the draws aim at the 8-byte length and the JSON header, where a flip changes the layout.
    positions = [p % (header * 8) for p in positions] if in_header else positions
    folder = tmp_path / "flip"
    shutil.rmtree(folder, ignore_errors=True)
    bundle_with_weights_file(good, folder, flip_bits(data, positions))
    status, why = try_bundle(folder, photo)
    assert status != "FAIL", why


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool", "complex64", "int8"])
def test_weights_of_a_non_float_dtype_are_refused(good, photo, tmp_path, dtype):
    import torch
    folder = retyped(good, tmp_path / dtype, getattr(torch, dtype))
    status, why = try_bundle(folder, photo)
    assert status == "refused" and "model.safetensors" in why, why


@pytest.mark.parametrize("dtype", ["float64", "bfloat16", "float16"])
def test_weights_of_another_float_dtype_still_predict(good, photo, tmp_path, dtype):
    import torch
    assert try_bundle(retyped(good, tmp_path / dtype, getattr(torch, dtype)), photo) == ("ok", "")


def test_non_finite_weights_are_refused(good, photo, tmp_path):
    from safetensors.torch import load_file, save_file
    for bad in (math.nan, math.inf):
        folder = tmp_path / f"w{bad}"
        shutil.copytree(good, folder)
        state = load_file(str(folder / "model.safetensors"))
        state["classifier.weight"][0, 0] = bad
        save_file(state, str(folder / "model.safetensors"))
        status, why = try_bundle(folder, photo)
        assert status == "refused" and "model.safetensors" in why, why


@pytest.mark.parametrize("damage", ["transpose", "drop", "extra", "scalar"])
def test_tensors_of_the_wrong_shape_or_set(good, photo, tmp_path, damage):
    import torch
    from safetensors.torch import load_file, save_file
    folder = tmp_path / damage
    shutil.copytree(good, folder)
    state = load_file(str(folder / "model.safetensors"))
    if damage == "transpose":
        state["classifier.weight"] = state["classifier.weight"].t().contiguous()
    elif damage == "drop":
        del state["conv_stem.weight"]
    elif damage == "extra":
        state["backdoor.weight"] = torch.zeros(3)
    else:
        state["bn1.running_var"] = torch.tensor(1.0, dtype=torch.float16)
    save_file(state, str(folder / "model.safetensors"))
    status, why = try_bundle(folder, photo)
    assert status == "refused" and "do not match architecture" in why, why
    with pytest.raises(BundleError, match="model.safetensors: weights do not match"):
        load_bundle(folder).load_model()


def test_onnx_beside_a_bundle_that_is_not_onnx_falls_back(good, photo, tmp_path, evil):
    # The predictor opens model.onnx / model.int8.onnx when present: a pickle or junk there is skipped.
    files, marker = evil
    folder = tmp_path / "onnxjunk"
    shutil.copytree(good, folder)
    shutil.copy(files["pickle-p5"], folder / "model.onnx")
    (folder / "model.int8.onnx").write_bytes(os.urandom(4096))
    assert try_bundle(folder, photo) == ("ok", "")
    assert not marker.exists()


# -----------------------------------------------------------------------------------------------
# Tests: a pickle offered as a model, everywhere.

def _refused(msg: str) -> bool:
    return "never loaded as a model" in msg or "not a model bundle" in msg or "not a readable safetensors" in msg \
        or "corrupt JSON" in msg


@pytest.fixture
def offered(good, evil, tmp_path):
    """Every way to offer a pickle as a model: the file itself, renamed .safetensors, inside bundle folders."""
    files, marker = evil
    offers = dict(files)
    for name, f in files.items():
        offers[f"{name}-as-safetensors"] = f.with_name(f.stem + ".safetensors")
        shutil.copy(f, offers[f"{name}-as-safetensors"])
        offers[f"{name}-in-bundle"] = bundle_with_weights_file(good, tmp_path / f"bundle-{name}", f.read_bytes())
    offers["pickle-as-bundle.json"] = tmp_path / "pjson"
    shutil.copytree(good, offers["pickle-as-bundle.json"])
    shutil.copy(files["pickle-p2"], offers["pickle-as-bundle.json"] / "bundle.json")
    return offers, marker


def test_library_entry_points_never_unpickle(offered, photo):
    from inat.identify.predict import Predictor
    offers, marker = offered
    for name, path in offers.items():
        for entry in (lambda p: resolve(str(p)).load_model(), lambda p: load_bundle(p).load_model(),
                      lambda p: Predictor(str(p)), lambda p: Predictor(str(p), exact=True)):
            with pytest.raises(BundleError) as e:
                entry(path)
            assert _refused(str(e.value)) and "\n" not in str(e.value), (name, str(e.value))
    assert not marker.exists()


@pytest.mark.parametrize("command", ["predict", "evaluate", "labels", "export"])
def test_cli_model_options_never_unpickle(offered, photo, tiny_inat, capsys, command):
    from inat.cli.main import main
    offers, marker = offered
    for name, path in offers.items():
        argv = {"predict": ["predict", photo, "--json", "--model", str(path)],
                "evaluate": ["evaluate", "--model", str(path), "--data", str(tiny_inat)],
                "labels": ["labels", "--model", str(path)],
                "export": ["export", "--model", str(path), "--format", "onnx"]}[command]
        rc = main(argv)
        out = capsys.readouterr()
        text = out.out + out.err
        if command == "labels" and name.endswith("-in-bundle"):
            continue  # labels reads bundle.json only: the weights file is never opened
        assert rc != 0, (name, out)
        assert _refused(text) and "Traceback" not in text, (name, text)
    assert not marker.exists()


def test_app_model_picker_never_unpickles(good, evil, tmp_path, monkeypatch):
    import gradio as gr
    from PIL import Image

    from inat.app import build_app
    files, marker = evil
    weights = tmp_path / "weights"
    shutil.copytree(good, weights / "tiny")
    meta = json.loads((good / "bundle.json").read_text())
    (weights / "tiny" / "bundle.json").write_text(json.dumps({**meta, "name": "tiny", "default": True}))
    for name in ("pickle-p2", "torch-zip"):
        bundle_with_weights_file(good, weights / name, files[name].read_bytes())
    shutil.copy(files["pickle-p5"], weights / "evil.pt")  # a stray pickle in the weights folder
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    _, identify = app_identify(build_app(runs=[]))
    picture = Image.new("RGB", (64, 48), "green")
    for name in ("pickle-p2", "torch-zip"):
        with pytest.raises(gr.Error) as e:
            identify(picture, name)
        # one plain sentence on the page; the file at fault is named in the log, never on the page
        assert f"The {name} model could not be loaded" in e.value.message and "model.safetensors" not in e.value.message
        assert "\n" not in e.value.message and str(weights) not in e.value.message
    for name in ("evil.pt", "../pickles/evil_p2.pt", str(files["pickle-p2"])):
        with pytest.raises((gr.Error, BundleError)):
            identify(picture, name)
        with pytest.raises(BundleError):
            resolve(name, names_only=True)
    label, _, raw = identify(picture, "tiny")  # the good model is still served
    assert raw["model"] == "tiny" and raw["error"] is None
    assert not marker.exists()


def test_only_import_trust_pickle_unpickles(good, tmp_path, capsys):
    import torch

    from inat.cli.main import main
    from inat.models.architectures import create_model
    marker = tmp_path / "UNPICKLED"
    ckpt = tmp_path / "thesis.pth"
    torch.manual_seed(0)
    state = create_model("efficientnet_lite0", 3).state_dict()
    torch.save({"state_dict": state, "evil": Evil(marker)}, ckpt)
    tsv = tmp_path / "categories.tsv"
    tsv.write_text("common_name\tkingdom\tphylum\tclass\torder\tfamily\tgenus\tspecific_epithet\n"
                   "Lion\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tPanthera\tleo\n"
                   "Cheetah\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tAcinonyx\tjubatus\n"
                   "Oak\tPlantae\tTracheophyta\tMagnoliopsida\tFagales\tFagaceae\tQuercus\trobur\n")
    args = ["import", str(ckpt), "--categories", str(tsv), "--arch", "efficientnet_lite0", "--out"]
    assert main(args + [str(tmp_path / "refused")]) != 0
    assert "--trust-pickle" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "refused").exists()
    assert main(args + [str(tmp_path / "imported"), "--trust-pickle"]) == 0
    assert marker.read_text() == "unpickled"  # the pickle was live: trusting it ran its code
    b = load_bundle(tmp_path / "imported")
    assert b.arch == "efficientnet_lite0" and len(b.classes) == 3
    got = b.load_model().state_dict()
    assert all(np.array_equal(got[k].numpy(), state[k].numpy()) for k in state)
