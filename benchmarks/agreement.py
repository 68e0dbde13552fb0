"""Do the fast backends give the same answers? Measured against fp32 eager PyTorch on real photos.

    python benchmarks/agreement.py                      # starter + every bundle in weights/
    python benchmarks/agreement.py --model weights/plants47 --export

For each trained model, every photo of ../shared/data (imagenet-samples and inat21-plants47, 2,365
photos) is predicted by `Predictor(model, exact=True)` (fp32 eager PyTorch, full JPEG decoding: the
reference) and by each other way the predictor can run: its default, fp32 ONNX, and PyTorch with the
default decoding. Reported per way: the share of photos whose top-1 species is identical to the
reference's and whose top-5 set is identical. An fp32 default must reach 99 % / 97 %
(inat.runtime.onnx_backend.AGREEMENT_TOP1 / _TOP5); the exit status is 1 when one misses. A bf16 default (a CPU with
native bf16) is judged by accuracy instead, benchmarks/bf16_accuracy.py. `--export` makes missing exports first.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

SHARED = REPO.parent / "shared" / "data"


def photos_in(data: Path) -> list[Path]:
    """Every photo of the two real sets, sorted."""
    out = sorted((data / "imagenet-samples").glob("*.JPEG"))
    out += sorted((data / "inat21-plants47").glob("*/*/*.jpg"))
    return out


def default_models() -> list[str]:
    """The starter (when its taxonomy is installed) and every bundle in the weights folder."""
    from inat.models.registry import list_bundles
    from inat.models.starter import TAXONOMY_TSV
    return (["starter"] if TAXONOMY_TSV.is_file() else []) + [str(b.path) for b in list_bundles()]


def top5(predictor, photos: list[Path], batch: int = 32) -> list[list[int]]:
    """The top-5 class ids of every photo (an unreadable photo gives an empty list)."""
    out = []
    for i in range(0, len(photos), batch):
        out += [[p.taxon.class_id for p in r.predictions]
                for r in predictor.predict([str(p) for p in photos[i:i + batch]], k=5, batch_size=batch)]
    return out


def compare(ref: list[list[int]], got: list[list[int]]) -> dict:
    pairs = [(a, b) for a, b in zip(ref, got) if a]
    return {"photos": len(pairs),
            "top1": sum(a[0] == b[0] for a, b in pairs) / len(pairs),
            "top5_set": sum(set(a) == set(b) for a, b in pairs) / len(pairs)}


def show(name: str, arch: str, way: str, row: dict, n: int) -> None:
    if "top1" in row:
        print(f"| {name} ({arch}) | {way} | {100 * row['top1']:.2f} % | {100 * row['top5_set']:.2f} % "
              f"| {row['photos']} | {row['s']:.0f} |", flush=True)
    else:
        print(f"| {name} ({arch}) | {way} | — | — | {n} | {row['s']:.0f} |", flush=True)


def measure(model: str, photos: list[Path]) -> dict:
    """Agreement of each way of running `model` with its exact reference, plus timings (rows printed as they come)."""
    from inat.identify.predict import Predictor
    from inat.runtime.onnx_backend import AGREEMENT_TOP1, AGREEMENT_TOP5, FILES, export_dir
    t = time.perf_counter()
    exact = Predictor(model, exact=True)
    ref = top5(exact, photos)
    rows = {"exact (reference)": {"backend": "torch", "s": time.perf_counter() - t}}
    show(exact.bundle.name, exact.bundle.arch, "exact (reference)", rows["exact (reference)"], len(photos))
    default = Predictor(model)
    ways = {f"default ({default.backend})": default}
    if default.backend != "onnx" and (export_dir(default.bundle) / FILES["fp32"]).is_file():
        ways["onnx fp32"] = Predictor(model, backend="onnx")
    ways["torch, default decoding"] = Predictor(model, backend="torch")
    for name, p in ways.items():
        t = time.perf_counter()
        rows[name] = {"backend": p.backend, **compare(ref, top5(p, photos)), "s": time.perf_counter() - t}
        if name.startswith("default") and default.precision == "fp32":
            d = rows[name]
            d["meets_target"] = d["top1"] >= AGREEMENT_TOP1 and d["top5_set"] >= AGREEMENT_TOP5
        show(exact.bundle.name, exact.bundle.arch, name, rows[name], len(photos))
        if rows[name].get("meets_target") is False:
            print(f"  ^ the default misses 99 % / 97 %: do not ship this default for {exact.bundle.name}")
    return {"model": model, "name": default.bundle.name, "arch": default.bundle.arch, "ways": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=None, help="model to measure (repeatable; default: "
                    "starter and every bundle in weights/)")
    ap.add_argument("--data", type=Path, default=SHARED, help="folder with imagenet-samples/ and inat21-plants47/")
    ap.add_argument("--limit", type=int, default=None, help="only the first N photos (every k-th, spread evenly)")
    ap.add_argument("--export", action="store_true", help="export missing fp32 ONNX models first")
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "agreement.json")
    args = ap.parse_args(argv)
    photos = photos_in(args.data)
    if not photos:
        print(f"no photos under {args.data}: this benchmark needs the real photos of ../shared/data", file=sys.stderr)
        return 2
    if args.limit:
        photos = photos[::max(1, len(photos) // args.limit)][:args.limit]
    models = args.model or default_models()
    if args.export:
        from inat.models.registry import resolve
        from inat.runtime.export import ensure_export
        for m in models:
            b = resolve(m)
            print(f"exported {ensure_export(b)}", flush=True)
    results, ok = [], True
    print(f"{len(photos)} photos from {args.data}")
    print("| model | way | top-1 identical | top-5 set identical | photos | time (s) |")
    print("|---|---|---:|---:|---:|---:|")
    for m in models:
        r = measure(m, photos)
        results.append(r)
        ok = ok and all(row.get("meets_target") is not False for row in r["ways"].values())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.json, {"photos": len(photos), "data": str(args.data), "results": results,
                              "date": time.strftime("%Y-%m-%d %H:%M")})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
