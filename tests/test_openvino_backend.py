"""inat.openvino_backend: an OpenVINO IR made from the ONNX export gives ONNX Runtime's numbers.

A tiny Lite0 (4-class head, 32-pixel inputs); nothing here needs ../shared. Skips when OpenVINO is
not installed (it is optional), except the test that its absence is reported as ImportError.
"""
import shutil
import sys
import threading

import numpy as np
import pytest

from inat.bundle import load_bundle
from inat.export import ExportError, export_onnx, open_session, weights_fingerprint
from util import make_bundle

ov = pytest.importorskip("openvino")
from inat.openvino_backend import FILES, check_model, convert, open_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(bundle folder, its ONNX export, the fp32 IR converted from it)."""
    folder = tmp_path_factory.mktemp("ov") / "tiny"
    make_bundle(folder)
    onnx = export_onnx(load_bundle(folder))
    return folder, onnx, convert(onnx, folder, "fp32")


def inputs(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(0, 1, (n, 3, 32, 32)).astype(np.float32)


def test_fp32_ir_gives_onnx_runtimes_logits_at_any_batch(tiny):
    folder, onnx, xml = tiny
    assert xml == folder / FILES["fp32"] and xml.with_suffix(".bin").is_file()
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]
    session = open_session(onnx)
    net = open_model(xml, "fp32", threads=1)
    for n in (1, 3):
        x = inputs(n)
        ref = session.run(None, {"input": x})[0]
        got = net.run(x)
        assert got.shape == (n, 4) and got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    # Weights stay fp32 (OpenVINO's save_model would compress them to fp16 by default).
    consts = [op for op in ov.Core().read_model(str(xml)).get_ordered_ops() if op.get_type_name() == "Constant"]
    assert "f16" not in {op.get_output_element_type(0).get_type_name() for op in consts}


def test_metadata_travels_and_a_stale_ir_is_refused(tiny, tmp_path):
    folder, _, xml = tiny
    bundle = load_bundle(folder)
    net = open_model(xml, fingerprint=weights_fingerprint(bundle))
    meta = check_model(net, bundle)
    assert meta["inat_kind"] == "fp32" and meta["inat_arch"] == "efficientnet_lite0"
    assert meta["inat_fingerprint"] == weights_fingerprint(bundle)
    with pytest.raises(ExportError, match="stale"):
        open_model(xml, fingerprint="0" * 32)
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    make_bundle(other, seed=5)  # retrained after the conversion
    with pytest.raises(ExportError, match="stale"):
        check_model(open_model(other / FILES["fp32"]), load_bundle(other))


def test_bad_files_and_inputs_give_one_line_errors(tiny, tmp_path):
    _, _, xml = tiny
    bad = tmp_path / "model.xml"
    bad.write_text("<net name='broken'><layers><layer id=")
    shutil.copy(xml.with_suffix(".bin"), bad.with_suffix(".bin"))
    with pytest.raises(ExportError) as e:
        open_model(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ExportError, match="unreadable"):
        open_model(tmp_path / "missing.xml")
    with pytest.raises(ExportError, match="cannot run it as int8"):
        open_model(xml, "int8")
    with pytest.raises(ValueError, match="takes"):
        open_model(xml).run(np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(ValueError, match="precision"):
        open_model(xml, "fp8")


def test_two_threads_can_run_at_once(tiny):
    net = open_model(tiny[2], threads=1)
    xs = [inputs(2), inputs(3)]
    want = [net.run(x) for x in xs]
    got, errors = [None, None], []

    def work(i):
        try:
            for _ in range(20):
                got[i] = net.run(xs[i])
                np.testing.assert_array_equal(got[i], want[i])
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_bf16_runs_where_the_cpu_has_it_and_says_what_ran(tiny):
    net = open_model(tiny[2], "bf16")
    assert net.requested == "bf16" and net.precision in ("bf16", "fp32")
    assert net.run(inputs(1)).shape == (1, 4)


def test_without_openvino_open_model_raises_import_error(tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails
    with pytest.raises(ImportError):
        open_model(tiny[2])


@pytest.mark.slow  # imports NNCF (which imports torch): ~20 s on a busy 2-core machine
def test_int8_ir_from_nncf_carries_its_recipe_and_measurement(tiny, tmp_path):
    pytest.importorskip("nncf")
    _, onnx, _ = tiny
    calibration = [x[None] for x in inputs(8)]
    xml = convert(onnx, tmp_path, "int8", calibration=calibration, recipe="default",
                  measure=lambda net: {"agreement_top1": float(net.run(inputs(2)).shape[0] == 2)})
    assert xml == tmp_path / FILES["int8"]
    net = open_model(xml, "int8")
    assert net.precision == "int8" and net.meta["inat_recipe"] == "default"
    assert net.meta["agreement_top1"] == "1.0" and net.meta["inat_calibration_inputs"] == "8"
    ops = {op.get_type_name() for op in ov.Core().read_model(str(xml)).get_ordered_ops()}
    assert "FakeQuantize" in ops
    assert net.run(inputs(3)).shape == (3, 4)
    with pytest.raises(ExportError, match="cannot run it as fp32"):
        open_model(xml, "fp32")
