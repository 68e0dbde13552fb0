"""Is bf16 as accurate as fp32? Every shipped model on its labelled photos, run both ways on this CPU.

    python benchmarks/bf16_accuracy.py                 # starter, plants47, the installed experts, naturalist
    python benchmarks/bf16_accuracy.py --limit 100     # a smoke run

The default precision ("auto") runs bf16 where the CPU has native bf16 (AVX-512 BF16 or AMX). It may only
do so if, on such a CPU, no shipped model loses more than 0.5 point of top-1 against fp32, nor moves its ECE by more
than 0.01, on the photos it is measured on, and the router loses no more than 0.5 point of group accuracy (a
gain passes: it is the same noise in the other direction, and no harm):
  starter            imagenet-samples: top-1 over the organism photos (inat.training.evaluate's open-world top-1
                     and ECE over the photos of species it knows, plus the ImageNet-class top-1)
  plants47           inat21-plants47 val (470 photos it never trained on)
  inat2017-birds     birds525 photos of species it knows
  inat2017-insects   butterflies100 photos of species it knows
  naturalist         every collection: its router's group accuracy, its wrong "pretty sure" claims
Each model is run twice over the same photos, `Predictor(model, precision="fp32")` and `precision="bf16"`,
with the same decoding; the files the two run are made first (`inat.runtime.export.make_fast`). On a CPU without
native bf16, OpenVINO runs the bf16 request in fp32: the script says so and measures nothing (exit 2).
Writes results/bf16_accuracy.json (with the CPU's flags) and the table between the bf16_accuracy markers of
benchmarks/README.md (not with --limit).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from open_world import SHARED, collections, imagenet_figures  # noqa: E402
from results_file import cpu, write_results  # noqa: E402  (benchmarks/ is on the path when run)

RESULTS = REPO / "benchmarks" / "results" / "bf16_accuracy.json"
README = REPO / "benchmarks" / "README.md"
MARKERS = ("<!-- bf16_accuracy:start -->", "<!-- bf16_accuracy:end -->")
TOP1_POINTS = 0.5    # the most top-1 (and group accuracy) may move, in points
ECE_DELTA = 0.01     # the most ECE may move
# model → the collections it is judged on
JUDGED_ON = {"starter": ["imagenet-samples"], "plants47": ["plants47"], "inat2017-birds": ["birds525"],
             "inat2017-insects": ["butterflies100"],
             "naturalist": ["plants47", "flowers102", "birds525", "butterflies100", "imagenet-samples"]}
FIGURES = ("top1", "ece", "organism_top1", "group_acc", "wrong_claims", "n_known")


def run(model: str, precision: str, data: dict, names: list[str]) -> tuple[dict, float, str]:
    """{collection: figures} for one model at one precision, the photos/s, and what really ran."""
    from inat.identify.predict import Predictor
    from inat.runtime.export import make_fast
    from inat.training.evaluate import known_species, open_world
    predictor = Predictor(model, precision=precision, prepare=make_fast)
    known = known_species(predictor.classes)
    out, photos, t0 = {}, 0, time.perf_counter()
    for name in names:
        truths, classes = data[name]
        records = predictor.predict([str(t.path) for t in truths], k=5, batch_size=32)
        r = open_world(records, truths, known)
        if classes is not None:
            r.update(imagenet_figures(records, truths, classes))
        out[name] = {k: r.get(k) for k in FIGURES}
        photos += len(truths)
    return out, photos / (time.perf_counter() - t0), predictor.precision


def compare(model: str, fp32: dict, bf16: dict) -> list[dict]:
    """One row per (collection, figure) that the target judges, with the delta and whether it is within it."""
    rows = []
    for name, a in fp32.items():
        b = bf16[name]
        for k in ("top1", "organism_top1", "group_acc", "ece", "wrong_claims"):
            if a.get(k) is None or b.get(k) is None:
                continue
            if model == "naturalist" and k in ("top1", "ece", "organism_top1"):
                continue  # naturalist's parts are judged one by one above; its own rows are the router and claims
            delta = b[k] - a[k]
            if k == "wrong_claims":
                ok = None                                       # reported, not judged
            elif k == "ece":
                ok = abs(delta) <= ECE_DELTA + 1e-12
            else:
                ok = delta >= -TOP1_POINTS / 100 - 1e-12        # a loss of at most half a point
            rows.append({"model": model, "collection": name, "figure": k, "fp32": a[k], "bf16": b[k], "delta": delta,
                         "n": a.get("n_known") if k in ("top1", "ece") else None, "ok": ok})
    return rows


def table(rows: list[dict]) -> str:
    out = ["| model | photos | figure | fp32 | bf16 | Δ | target |", "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        scale, unit = (1, "") if r["figure"] == "ece" else (100, " %")
        limit = "±0.01" if r["figure"] == "ece" else "≥ −0.5 pt" if r["ok"] is not None else "reported"
        mark = "" if r["ok"] is None else (" ✓" if r["ok"] else " ✗")
        n = f" ({r['n']})" if r["n"] else ""
        out.append(f"| {r['model']} | {r['collection']}{n} | {r['figure']} | {scale * r['fp32']:.{3 if scale == 1 else 1}f}"
                   f"{unit} | {scale * r['bf16']:.{3 if scale == 1 else 1}f}{unit} | {scale * r['delta']:+.{3 if scale == 1 else 2}f} "
                   f"| {limit}{mark} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=None, help="default: starter, plants47, the installed experts, "
                    "naturalist")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=None, help="at most N photos a collection (spread evenly)")
    args = ap.parse_args(argv)
    from inat.models.registry import list_bundles
    from inat.runtime import openvino_backend
    machine = cpu()
    if not openvino_backend.cpu_has_bf16():
        print(f"{machine['model']} ({', '.join(machine['flags'])}): no native bf16, so OpenVINO runs bf16 as fp32 "
              "here and there is nothing to measure; run this on a CPU with AVX-512 BF16 or AMX", file=sys.stderr)
        return 2
    if not (args.data / "birds525").is_dir():
        print(f"{args.data}: the real photos of ../shared/data are needed", file=sys.stderr)
        return 2
    installed = {b.path.name for b in list_bundles()}
    models = args.models or [m for m in JUDGED_ON if m in ("starter", "naturalist") or m in installed]
    data = collections(args.data, args.limit)
    rows, speed = [], {}
    for m in models:
        target = m if m in ("starter", "naturalist") else str(REPO / "weights" / m)
        figures = {}
        for precision in ("fp32", "bf16"):
            figures[precision], pps, ran = run(target, precision, data, JUDGED_ON[m])
            speed[f"{m} {precision}"] = {"photos_per_s": round(pps, 2), "ran": ran}
            print(f"{m} {precision} (ran {ran}): {pps:.1f} photos/s", flush=True)
        rows += compare(m, figures["fp32"], figures["bf16"])
    print(table(rows))
    verdict = all(r["ok"] is not False for r in rows)
    if not args.limit:
        text = README.read_text(encoding="utf-8")
        a, b = text.find(MARKERS[0]), text.find(MARKERS[1])
        if a >= 0 and b > a:
            speeds = ", ".join(f"{m} {v['photos_per_s']:.0f}" for m, v in speed.items())
            block = (f"{time.strftime('%Y-%m-%d')}, {machine['model']} ({', '.join(machine['flags'])}), "
                     f"{machine['usable_cpus']} cores; photos/s over the same photos, each way: {speeds}.\n\n"
                     f"{table(rows)}\n\nbf16 as the default on this CPU: **{'yes' if verdict else 'no'}**.")
            README.write_text(text[:a + len(MARKERS[0])] + "\n" + block + "\n" + text[b:], encoding="utf-8")
    print(f"bf16 as the default on this CPU: {'yes' if verdict else 'NO'} (every judged figure within its target)")
    write_results(RESULTS, {"date": time.strftime("%Y-%m-%d"), "limit": args.limit, "rows": rows, "speed": speed,
                            "targets": {"top1_points": TOP1_POINTS, "ece": ECE_DELTA}, "bf16_default_ok": verdict,
                            "command": "python benchmarks/bf16_accuracy.py " + " ".join(sys.argv[1:] if argv is None
                                                                                        else argv)})
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
