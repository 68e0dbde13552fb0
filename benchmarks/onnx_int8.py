"""ONNX Runtime static int8, kept for the benchmarks that compare it (openvino_study.py): not in `inat/`.

It kept 59 % of the starter's fp32 top-1 answers against NNCF's 90 % (benchmarks/README.md, Precisions), so
the engine never runs it and no command makes it; this is the copy the study measures.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from inat.models.bundle import Bundle
from inat.runtime.export import _fp32_in, _inputs, _stamp, agreement, calibration_photos, export_dir, split_photos
from inat.runtime.onnx_backend import INPUT, OnnxModel

INT8_FILE = "model.int8.onnx"
N_CALIBRATION = 128    # photos the int8 ranges are calibrated on
N_CHECK = 300          # other photos its agreement with fp32 PyTorch is measured on
SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data"   # calibration photos by default


def export_int8(bundle: Bundle, calibration: Path | None = None, *, n_calibration: int = N_CALIBRATION,
                n_check: int = N_CHECK, out_dir: Path | None = None) -> tuple[Path, dict]:
    """Write `model.int8.onnx`: ONNX Runtime static int8 (QDQ, per-channel weights) calibrated on real photos.
    Returns the path and the measured agreement with fp32 PyTorch on held-out photos (also stored inside it)."""
    # onnxruntime's quantizer: only while exporting
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    out_dir = Path(out_dir or export_dir(bundle))
    fp32 = _fp32_in(bundle, out_dir)
    cal, check = split_photos(calibration_photos(calibration), n_calibration, n_check)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(_inputs(bundle, cal))

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {INPUT: x}

    final = out_dir / INT8_FILE
    pre, tmp = out_dir / "model.int8.pre.tmp.onnx", out_dir / (INT8_FILE + ".tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
            quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            # MinMax keeps only per-tensor min/max per photo, so memory stays small
                            calibrate_method=CalibrationMethod.MinMax)
        measured = agreement(bundle, OnnxModel(tmp), check)
        calib = calibration or SHARED_PHOTOS
        _stamp(tmp, bundle, "int8", {**measured, "calibration": f"{calib} ({len(cal)} photos, MinMax, QDQ per-channel)"})
        os.replace(tmp, final)
    finally:
        for f in (pre, tmp):
            f.unlink(missing_ok=True)
    return final, measured
