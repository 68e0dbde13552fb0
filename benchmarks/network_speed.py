"""The network alone: where bench_inference's end-to-end figures hit their floor.

    python benchmarks/network_speed.py          # ~3 min on 2 cores

Times the forward pass of bench_inference's model (efficientnet_v2_s, 10,000 classes, BatchNorm
statistics from real photos) on preprocessed real photos, no decoding, no taxonomy: eager PyTorch
with autograd on (the thesis), eager PyTorch in inference mode, ONNX Runtime fp32 at batch 1, 4
and 16, and ONNX Runtime static int8 (calibrated on real photos) at batch 1. Milliseconds a photo,
median of repeats. Writes benchmarks/results/network_speed.json.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

RESULTS = REPO / "benchmarks" / "results" / "network_speed.json"


def per_photo_ms(run, batch: int, repeats: int = 5, min_photos: int = 16) -> float:
    run()
    times = []
    for _ in range(repeats):
        calls = max(1, min_photos // batch)
        t = time.perf_counter()
        for _ in range(calls):
            run()
        times.append((time.perf_counter() - t) / (calls * batch) * 1000)
    return round(statistics.median(times), 1)


def main() -> int:
    import bench_inference as B
    import torch

    from inat.core.images import open_image
    from inat.core.preprocess import ArrayTransform
    from inat.models.bundle import load_bundle
    from inat.runtime.onnx_backend import FILES, OnnxModel, export_dir
    photos = B.real_photos(64) or B.generated_photos(Path(tempfile.mkdtemp()) / "photos", 64)
    work = Path(tempfile.mkdtemp(prefix="inat-network-"))
    B.make_models(work, photos, True, None)  # pickle, bundle, fp32 and int8 exports
    bundle = load_bundle(work / "thesis_v2s")
    x = np.asarray(ArrayTransform(bundle.preprocess).batch([open_image(p) for p in photos[:16]]), dtype=np.float32)
    rows = {}
    model = torch.load(work / "thesis_v2s.pt", map_location="cpu", weights_only=False).eval()  # we wrote it
    xt = torch.from_numpy(x)
    rows["pytorch eager, autograd on (thesis), batch 1"] = per_photo_ms(lambda: model(xt[:1]), 1)
    with torch.inference_mode():
        rows["pytorch inference mode, batch 1"] = per_photo_ms(lambda: model(xt[:1]), 1)
    folder = export_dir(bundle)
    fp32 = OnnxModel(folder / FILES["fp32"])
    for b in (1, 4, 16):
        rows[f"onnx runtime fp32, batch {b}"] = per_photo_ms(lambda: fp32.run(x[:b]), b)
    int8 = OnnxModel(folder / FILES["int8"])
    rows["onnx runtime int8, batch 1"] = per_photo_ms(lambda: int8.run(x[:1]), 1)
    print("| network, efficientnet_v2_s 10,000 classes | ms a photo |\n|---|---:|")
    for k, v in rows.items():
        print(f"| {k} | {v} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_results(RESULTS, {"date": time.strftime("%Y-%m-%d"), "torch_threads": torch.get_num_threads(),
                            "ms_per_photo": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
