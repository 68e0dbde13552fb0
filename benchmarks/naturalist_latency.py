"""Single-photo latency of `naturalist` against the starter's, interleaved photo by photo in one process.

    python benchmarks/naturalist_latency.py              # 120 real photos: birds, butterflies, plants, ImageNet

naturalist runs the starter (whose features also feed the router) on every photo, then each installed
expert whose group gets at least EXPERT_MIN of the probability, so its cost depends on the photo: a bird
adds the bird expert's network, a tower adds nothing. The photos are a mix of ../shared/data's
collections in equal parts; both predictors use their default backend (the ONNX exports, made before
timing) and the same threads. Reports the median and p95 per photo of each, file path → record, and
the ratio of the medians (target: naturalist ≤ 2× the starter). Writes results/naturalist_latency.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "naturalist_latency.json"
SOURCES = ("birds525/photos", "butterflies100/photos", "inat21-plants47/val", "imagenet-samples")


def photos(n: int) -> list[Path]:
    """n photos, equal parts of each source, spread evenly through its sorted files."""
    out = []
    for src in SOURCES:
        files = sorted(p for p in (SHARED / src).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        step = max(1, len(files) // (n // len(SOURCES)))
        out += files[::step][: n // len(SOURCES)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=120)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"{SHARED}: the real photos of ../shared/data are needed", file=sys.stderr)
        return 2
    from inat.identify.predict import Predictor
    files = photos(args.photos)
    from inat.runtime.export import make_fast
    sides = {"starter": Predictor("starter", threads=args.threads, prepare=make_fast),
             "naturalist": Predictor("naturalist", threads=args.threads, prepare=make_fast)}
    for p in sides.values():  # warm-up: sessions, thread pools, first-call allocations
        p.predict([str(f) for f in files[:4]])
    times: dict[str, list[float]] = {k: [] for k in sides}
    experts_ran = 0
    for i, f in enumerate(files):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            t0 = time.perf_counter()
            r = sides[name].predict([str(f)])[0]
            times[name].append(time.perf_counter() - t0)
            if name == "naturalist":
                experts_ran += any(p.model not in (None, "starter") for p in r.predictions)
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "photos": len(files), "threads": args.threads,
           "sources": list(SOURCES), "photos_an_expert_answered": experts_ran,
           "backends": {k: p.backend for k, p in sides.items()}}
    for name, t in times.items():
        res[name] = {"median_ms": round(1000 * float(np.median(t)), 1),
                     "p95_ms": round(1000 * float(np.percentile(t, 95)), 1)}
    res["ratio_median"] = round(res["naturalist"]["median_ms"] / res["starter"]["median_ms"], 2)
    write_results(RESULTS, res, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
