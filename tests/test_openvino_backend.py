"""inat.runtime.openvino_backend and the precision switch: OpenVINO IRs made from the ONNX export, run by the engine.

Tiny Lite0 bundles (conftest.make_bundle: a 4-class head, 32-pixel inputs); nothing here needs ../shared.
OpenVINO is optional (requirements-openvino.txt): without it these tests skip, except those checking that
its absence is a one-line error saying how to install it.
"""
import json
import logging
import sys
import threading

import numpy as np
import pytest
from conftest import copy_bundle, make_bundle
from PIL import Image

from inat.identify.predict import Predictor
from inat.models.bundle import BundleError, load_bundle
from inat.runtime import onnx_backend as runtime
from inat.runtime import openvino_backend
from inat.runtime.engine import Engine
from inat.runtime.export import ensure_export, export_onnx, make_fast
from inat.runtime.onnx_backend import ExportedModelError, OnnxModel
from inat.runtime.openvino_backend import FILES, convert, current_ir, open_ir, open_model

needs_openvino = pytest.mark.skipif(not openvino_backend.available(), reason="OpenVINO is not installed")
NO_BF16 = ("this CPU has no bf16 (AVX-512 BF16 or AMX), so OpenVINO runs precision bf16 in fp32 "
           "(fp32's answers, no speed-up)")
IMAGES = [Image.new("RGB", (50, 40), "red"), Image.new("RGB", (10, 90), "blue"),
          Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8))]


def inputs(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(0, 1, (n, 3, 32, 32)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny(exported, tmp_path_factory):
    """A tiny bundle folder with model.onnx and the fp32 IR (model.xml) converted from it."""
    if not openvino_backend.available():
        pytest.skip("OpenVINO is not installed")
    folder = copy_bundle(exported, tmp_path_factory.mktemp("ov") / "tiny")
    convert(folder / runtime.FILES["fp32"])
    return folder


@pytest.fixture(scope="module")
def tiny_int8(tiny):
    """`tiny` with an NNCF int8 IR too (the default recipe, 8 random calibration inputs: ~5 s)."""
    pytest.importorskip("nncf")
    convert(tiny / runtime.FILES["fp32"], tiny, "int8", calibration=[x[None] for x in inputs(8)],
            measure=lambda net: {"agreement_top1": 1.0, "agreement_photos": net.run(inputs(2)).shape[0]})
    return tiny


# -- the IR ------------------------------------------------------------------------------------
@needs_openvino
def test_fp32_ir_gives_onnx_runtimes_logits_at_any_batch(tiny):
    import openvino as ov
    xml = tiny / FILES["fp32"]
    assert xml.with_suffix(".bin").is_file() and not [p for p in tiny.iterdir() if ".tmp" in p.name]
    ort = OnnxModel(tiny / runtime.FILES["fp32"])
    net = open_model(xml, "fp32", threads=1)
    for n in (1, 3):
        x = inputs(n)
        ref = ort.run(x)
        got = net.run(x)
        assert got.shape == (n, 4) and got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    # timm models keep their second output, the pooled features the router reads
    assert net.has_features == ort.has_features
    if net.has_features:
        for a, b in zip(net.run_with_features(inputs(2)), ort.run_with_features(inputs(2))):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())
    # Weights stay fp32 (OpenVINO's save_model would compress them to fp16 by default).
    consts = [op for op in ov.Core().read_model(str(xml)).get_ordered_ops() if op.get_type_name() == "Constant"]
    assert "f16" not in {op.get_output_element_type(0).get_type_name() for op in consts}


@needs_openvino
def test_the_ir_carries_the_exports_metadata_and_a_stale_one_is_refused(tiny, tmp_path):
    bundle = load_bundle(tiny)
    net = open_ir(bundle)
    assert net.meta["inat_kind"] == "fp32" and net.meta["inat_format"] == openvino_backend.FORMAT
    assert net.meta["inat_weights_id"] == bundle.current_weights_id() and net.meta["inat_arch"] == bundle.arch
    assert current_ir(bundle) == tiny / FILES["fp32"]
    other = copy_bundle(tiny, tmp_path / "other")
    make_bundle(other, seed=5)  # retrained after the conversion
    retrained = load_bundle(other)
    with pytest.raises(ExportedModelError, match="stale; re-run: python -m inat export .* --format openvino"):
        open_ir(retrained)
    assert current_ir(retrained) is None
    assert open_ir(make_bundle(tmp_path / "bare")) is None and current_ir(make_bundle(tmp_path / "bare")) is None


@needs_openvino
def test_bad_files_and_inputs_give_one_line_errors(tiny, tmp_path):
    xml = tiny / FILES["fp32"]
    bad = tmp_path / "model.xml"
    bad.write_text("<net name='broken'><layers><layer id=")
    bad.with_suffix(".bin").write_bytes(xml.with_suffix(".bin").read_bytes())
    with pytest.raises(ExportedModelError) as e:
        open_model(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ExportedModelError, match="unreadable"):
        open_model(tmp_path / "missing.xml")
    with pytest.raises(ExportedModelError, match="cannot run it as int8"):
        open_model(xml, "int8")
    with pytest.raises(ValueError, match="takes"):
        open_model(xml).run(np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(ValueError, match="precision"):
        open_model(xml, "fp8")


@needs_openvino
def test_two_threads_can_run_at_once(tiny):
    net = open_model(tiny / FILES["fp32"], threads=1)
    xs = [inputs(2), inputs(3)]
    want = [net.run(x) for x in xs]
    errors = []

    def work(i):
        try:
            for _ in range(20):
                np.testing.assert_array_equal(net.run(xs[i]), want[i])
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@needs_openvino
def test_bf16_says_once_when_the_cpu_runs_it_in_fp32(tiny, caplog, monkeypatch):
    xml = tiny / FILES["fp32"]
    monkeypatch.setattr(openvino_backend, "_warned_bf16", [False])
    with caplog.at_level(logging.WARNING, logger="inat"):
        nets = [open_model(xml, "bf16"), open_model(xml, "bf16")]
    has_bf16 = openvino_backend.cpu_has_bf16()
    assert [n.precision for n in nets] == [("bf16" if has_bf16 else "fp32")] * 2 and nets[0].requested == "bf16"
    warnings = [r.getMessage() for r in caplog.records if "no bf16" in r.getMessage()]
    assert warnings == ([] if has_bf16 else [NO_BF16])
    assert nets[0].run(inputs(1)).shape == (1, 4)


# -- the precision switch, end to end -----------------------------------------------------------
@needs_openvino
def test_every_fp32_and_bf16_way_gives_onnx_runtimes_answers(tiny):
    ort = Predictor(str(tiny), precision="fp32")
    ov_fp32 = Predictor(str(tiny), backend="openvino")
    bf16 = Predictor(str(tiny), precision="bf16")
    assert (ort.backend, ov_fp32.backend, bf16.backend) == ("onnx", "openvino", "openvino-bf16")
    ref = ort.probabilities(IMAGES)
    np.testing.assert_allclose(ov_fp32.probabilities(IMAGES), ref, atol=1e-5)
    got = bf16.probabilities(IMAGES)
    if bf16.engine.exported.precision == "fp32":  # this CPU has no bf16: fp32's numbers exactly
        np.testing.assert_allclose(got, ref, atol=1e-5)
    else:
        np.testing.assert_allclose(got, ref, atol=0.05)
    top = [[r.top.taxon.class_id for r in p.predict(IMAGES)] for p in (ov_fp32, ort)]
    assert top[0] == top[1]


def test_openvinos_precision_names_are_ours():
    # OpenVINO reports the hint a compiled model runs as an element type printed "bfloat16" (2026.4), "bf16" elsewhere.
    assert [openvino_backend.precision_name(t) for t in ("bfloat16", "<Type: 'bfloat16'>", "bf16", "f32", "float32",
                                                          "<Type: 'float32'>", "f16")] == \
        ["bf16", "bf16", "bf16", "fp32", "fp32", "fp32", "fp16"]


@needs_openvino
def test_the_default_precision_is_bf16_exactly_where_the_cpu_runs_it(tiny, monkeypatch):
    # Both kinds of CPU, whichever this one is: what OpenVINO reports decides, once per process.
    for native in (True, False):
        monkeypatch.setattr(openvino_backend, "_cpu_capabilities", lambda: ("FP32", "INT8") + (("BF16",) * native))
        p = Predictor(str(tiny))
        assert p.engine.precision == ("bf16" if native else "fp32")
        assert p.backend == ("openvino-bf16" if native else "onnx")
        assert openvino_backend.default_backend() == ("openvino-bf16" if native else "onnx")
        # Opting out, and the cases that always run fp32, are fp32 on every CPU.
        assert Predictor(str(tiny), precision="fp32").backend == "onnx"
        assert Predictor(str(tiny), backend="onnx").engine.precision == "fp32"
        assert Predictor(str(tiny), exact=True).engine.precision == "fp32"
    monkeypatch.undo()
    # What ran, as each record says: bf16 only where this CPU really runs it.
    p = Predictor(str(tiny))
    r = p.predict(IMAGES[:1])[0]
    assert r.precision == p.precision == ("bf16" if openvino_backend.cpu_has_bf16() else "fp32")
    assert r.to_json()["precision"] == r.precision


@needs_openvino
def test_the_automatic_bf16_waits_for_its_file_on_fp32s(exported, tmp_path, monkeypatch):
    monkeypatch.setattr(openvino_backend, "_cpu_capabilities", lambda: ("FP32", "BF16"))
    folder = copy_bundle(exported, tmp_path / "tiny")   # model.onnx, no model.xml
    p = Predictor(str(folder))                           # not asked for by name: no error
    assert (p.backend, p.precision, p.engine.needs_export) == ("onnx", "fp32", True)
    assert Predictor(str(folder), prepare=make_fast).backend == "openvino-bf16" and (folder / FILES["fp32"]).is_file()


@needs_openvino
def test_bf16s_ir_is_made_on_first_use_unless_told_not_to(exported, tmp_path):
    folder = copy_bundle(exported, tmp_path / "tiny", exports=False)
    with pytest.raises(BundleError, match=r"no bf16 OpenVINO model yet; make it with python -m inat export "
                                          r"--model .*tiny --precision bf16"):
        Predictor(str(folder), precision="bf16")  # nothing made without prepare
    p = Predictor(str(folder), precision="bf16", prepare=make_fast)
    assert p.backend == "openvino-bf16" and not p.engine.needs_export
    assert (folder / FILES["fp32"]).is_file() and (folder / runtime.FILES["fp32"]).is_file()
    assert p.predict(IMAGES[:1])[0].error is None
    # Naming the backend as well makes it too.
    again = copy_bundle(exported, tmp_path / "again", exports=False)
    assert Predictor(str(again), precision="bf16", backend="openvino-bf16", prepare=make_fast).backend == "openvino-bf16"


@needs_openvino
def test_openvino_as_the_fp32_default_is_made_beside_the_onnx_export(exported, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "FP32_BACKEND", "openvino")
    folder = copy_bundle(exported, tmp_path / "tiny", exports=False)
    export_onnx(load_bundle(folder))
    e = Engine(load_bundle(folder), precision="fp32")
    assert e.backend == "onnx" and e.preferred == "openvino" and e.needs_export  # ORT serves until the IR exists
    p = Predictor(str(folder), prepare=make_fast, precision="fp32")
    assert p.backend == "openvino" and (folder / FILES["fp32"]).is_file()
    assert ensure_export(load_bundle(folder)) == folder / FILES["fp32"]  # found, not made again
    np.testing.assert_allclose(p.probabilities(IMAGES), Predictor(str(folder), backend="onnx").probabilities(IMAGES),
                               atol=1e-5)


@needs_openvino
@pytest.mark.integration   # NNCF quantizes a network first (~5 s, once for the three)
def test_int8_ir_carries_its_recipe_and_measurement(tiny_int8):
    import openvino as ov
    xml = tiny_int8 / FILES["int8"]
    net = open_ir(load_bundle(tiny_int8), "int8")
    assert net.file == xml and net.precision == "int8"
    assert net.meta["inat_recipe"] == openvino_backend.DEFAULT_RECIPE == "7bit+depthwise+first-last-fp32"
    assert net.meta["agreement_top1"] == "1.0" and net.meta["inat_calibration_inputs"] == "8"
    assert "FakeQuantize" in {op.get_type_name() for op in ov.Core().read_model(str(xml)).get_ordered_ops()}
    assert net.run(inputs(3)).shape == (3, 4)
    with pytest.raises(ExportedModelError, match="cannot run it as fp32"):
        open_model(xml, "fp32")
    p = Predictor(str(tiny_int8), precision="int8")
    assert p.backend == "openvino-int8" and p.predict(IMAGES[:2])[1].error is None
    assert Predictor(str(tiny_int8)).backend == openvino_backend.default_backend()  # int8 is opt-in only


@needs_openvino
@pytest.mark.integration   # NNCF quantizes a network first (~5 s, once for the three)
def test_int8_is_never_made_by_predict_and_refused_when_stale(tiny_int8, exported, tmp_path):
    none = copy_bundle(exported, tmp_path / "none")
    with pytest.raises(BundleError, match=r"tiny: no exported int8 OpenVINO model; make it with python -m inat "
                                          r"export --model .*none --precision int8"):
        Predictor(str(none), precision="int8", prepare=make_fast)
    assert not (none / FILES["int8"]).exists()
    stale = copy_bundle(tiny_int8, tmp_path / "stale")
    make_bundle(stale, seed=5)  # retrained after the int8 IR was made
    with pytest.raises(BundleError, match=r"stale; re-run: python -m inat export .* --precision int8") as e:
        Predictor(str(stale), precision="int8", prepare=make_fast)
    assert "\n" not in str(e.value)


@needs_openvino
@pytest.mark.integration   # NNCF quantizes a network first (~5 s, once for the three)
def test_a_scoped_bundles_guard_runs_the_same_precision_and_says_why_it_is_needed(tiny_int8, tmp_path, monkeypatch):
    monkeypatch.setenv("INAT_CACHE", str(tmp_path / "cache"))  # no int8 IR of the built-in starter there
    scoped = copy_bundle(tiny_int8, tmp_path / "scoped")
    meta = json.loads((scoped / "bundle.json").read_text())
    (scoped / "bundle.json").write_text(json.dumps({**meta, "scope": {"rank": "kingdom", "name": "Plantae"}}))
    with pytest.raises(BundleError) as e:
        Predictor(str(scoped), precision="int8")
    assert str(e.value) == ("starter: no exported int8 OpenVINO model; make it with python -m inat export --model "
                            "starter --precision int8 (the starter checks that photos are in tiny's scope)")


# -- without OpenVINO ----------------------------------------------------------------------------
def test_without_openvino_lower_precisions_are_one_line_errors_and_fp32_is_unchanged(exported, monkeypatch):
    monkeypatch.setattr(openvino_backend, "available", lambda: False)
    bundle = load_bundle(exported)
    for precision in ("bf16", "int8"):
        with pytest.raises(ImportError) as e:
            Engine(bundle, precision=precision)
        assert str(e.value) == f"precision {precision} runs on OpenVINO, and openvino is not installed: " \
                               "pip install openvino nncf"
    with pytest.raises(ImportError, match="pip install openvino nncf"):
        Engine(bundle, backend="openvino")  # asked for explicitly
    monkeypatch.setattr(runtime, "FP32_BACKEND", "openvino")
    e = Engine(bundle)
    assert e.backend == "onnx" and e.preferred == "onnx" and not e.needs_export  # the default falls back quietly


def test_without_openvino_open_model_raises_import_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails
    with pytest.raises(ImportError):
        open_model(tmp_path / "model.xml")


def test_precision_and_backend_must_fit(exported):
    bundle = load_bundle(exported)
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16, int8"):
        Engine(bundle, precision="fp16")
    with pytest.raises(ValueError, match="precision bf16 runs on OpenVINO on the CPU"):
        Engine(bundle, precision="bf16", backend="onnx")
    with pytest.raises(ValueError, match="precision int8 runs on OpenVINO on the CPU"):
        Engine(bundle, precision="int8", exact=True)
