"""Which runtime should serve fp32 by default: ONNX Runtime fp32 against OpenVINO fp32 (and OpenVINO int8).

    python benchmarks/backend_speed.py                          # starter + plants47, 200 photos, 9 rounds
    python benchmarks/backend_speed.py --limit 16 --rounds 1    # a smoke run (seconds of timing)

For each model the fp32 ONNX export, the OpenVINO fp32 IR converted from it and the NNCF int8 IR (the
default recipe, openvino_backend.DEFAULT_RECIPE, calibrated on 300 photos the timing never sees) are
made in a work folder (never beside the bundle or in the cache), then run on the same ~200 real photos of
../shared/data (every k-th of imagenet-samples and inat21-plants47 val), decoded and preprocessed once
as the predictor's default path does. Each runtime gets 2 threads (--threads). Speed: the network alone,
at batch 1 and batch 8, in interleaved rounds: photo chunk by photo chunk, every way in turn (the order
reversed every other round), so all ways see the same machine load; median over rounds of the ms a photo.
Agreement: top-1 identical and top-5 set identical (over the bundle's classes) against fp32 eager PyTorch
on the same inputs. The verdict names the fastest fp32 runtime meeting runtime.AGREEMENT_TOP1 / _TOP5 on
every model at both batch sizes: what runtime.FP32_BACKEND should say. The 1-minute load average is logged
before and after each model's timing (the benchmark's own threads count in it): timings from a busy
machine are not evidence. Writes
benchmarks/results/backend_speed.json.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "backend_speed.json"
WAYS = ("ort fp32", "ov fp32", "ov int8")
BACKEND_OF = {"ort fp32": "onnx", "ov fp32": "openvino"}  # the fp32 ways, as runtime.FP32_BACKEND names them


def photo_sets(data: Path, n: int) -> tuple[list[Path], list[Path]]:
    """(timed photos: every k-th of imagenet-samples + plants47 val, n of them; int8 calibration photos:
    plants47 train_mini and the other sets, shuffled with a fixed seed; the two never overlap)."""
    pool = sorted((data / "imagenet-samples").glob("*.JPEG")) + sorted((data / "inat21-plants47").glob("val/*/*.jpg"))
    timed = pool[::max(1, len(pool) // n)][:n] if pool else []
    cal = sorted((data / "inat21-plants47").glob("train_mini/*/*.jpg"))
    for name in ("birds525", "butterflies100", "flowers102"):
        cal += sorted((data / name).glob("photos/*/*.jpg"))
    random.Random(1).shuffle(cal)
    return timed, cal


def make_ways(bundle, folder: Path, cal: list[Path], n_cal: int, threads: int, int8: bool, log) -> dict:
    """name → (run(x) → logits, file): the exports made in `folder` when missing or stale, then opened."""
    from inat.runtime import openvino_backend as ov
    from inat.runtime.export import PhotoInputs, export_onnx
    from inat.runtime.onnx_backend import FILES, ExportedModelError, OnnxModel
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / FILES["fp32"]
    try:
        ort = OnnxModel(onnx, threads).check(bundle)
    except ExportedModelError:
        t = time.perf_counter()
        export_onnx(bundle, folder)
        ort = OnnxModel(onnx, threads).check(bundle)
        log(f"  exported {onnx} ({time.perf_counter() - t:.0f} s)")
    ways = {"ort fp32": (ort.run, onnx)}
    files = {"ov fp32": (folder / ov.FILES["fp32"], "fp32")}
    if int8:
        files["ov int8"] = (folder / ov.FILES["int8"], "int8")
    for name, (xml, precision) in files.items():
        try:
            net = ov.open_model(xml, precision, threads).check(bundle)
            if precision == "int8" and (net.meta.get("inat_recipe"), net.meta.get("inat_calibration_inputs")) != \
                    (ov.DEFAULT_RECIPE, str(min(n_cal, len(cal)))):
                raise ExportedModelError("made with another recipe or calibration size")
        except ExportedModelError:
            t = time.perf_counter()
            ov.convert(onnx, folder, precision, calibration=PhotoInputs(bundle, cal[:n_cal]) if precision == "int8" else None,
                       recipe=ov.DEFAULT_RECIPE)
            net = ov.open_model(xml, precision, threads).check(bundle)
            log(f"  made {xml} ({time.perf_counter() - t:.0f} s)")
        ways[name] = (net.run, xml)
    return ways


def agreement(bundle, logits: dict[str, np.ndarray], x: np.ndarray, chunk: int = 16) -> dict:
    """Per way: top-1 identical and top-5 set identical vs fp32 eager PyTorch on the same inputs `x`."""
    import torch
    model = bundle.load_model()
    with torch.inference_mode():
        ref = np.concatenate([model(torch.from_numpy(x[i:i + chunk])).numpy() for i in range(0, len(x), chunk)])
    index = np.asarray(bundle.output_index)
    k = min(5, len(index))

    def top(z):
        return np.argsort(-z[:, index], axis=1, kind="stable")[:, :k]
    r = top(ref)
    out = {}
    for name, z in logits.items():
        g = top(z)
        out[name] = {"top1": round(float((g[:, 0] == r[:, 0]).mean()), 4),
                     "top5_set": round(float(np.mean([set(a) == set(b) for a, b in zip(g, r)])), 4),
                     "photos": len(x)}
    return out


def speed(ways: dict, x: np.ndarray, rounds: int, batches=(1, 8), chunk: int = 8) -> tuple[dict, dict]:
    """({way: {"ms_b1": median, "ms_b1_rounds": [...], ...}}, {way: logits of every photo from the b8 pass})."""
    for run, _ in ways.values():
        for b in batches:
            run(x[:b])  # warm-up: first-call allocations and kernel choice
    totals = {(w, b): [] for w in ways for b in batches}
    logits: dict[str, list] = {w: [] for w in ways}
    for r in range(rounds):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        spent = {key: 0.0 for key in totals}
        for start in range(0, len(x), chunk):
            part = x[start:start + chunk]
            for b in batches:
                for w in order:
                    run = ways[w][0]
                    t = time.perf_counter()
                    got = [run(part[i:i + b]) for i in range(0, len(part), b)]
                    spent[w, b] += time.perf_counter() - t
                    if r == 0 and b == max(batches):
                        logits[w] += got
        for key, s in spent.items():
            totals[key].append(s / len(x) * 1000)
    res = {w: {} for w in ways}
    for (w, b), samples in totals.items():
        res[w][f"ms_b{b}"] = round(statistics.median(samples), 2)
        res[w][f"ms_b{b}_rounds"] = [round(s, 2) for s in samples]
    return res, {w: np.concatenate(v) for w, v in logits.items()}


def verdict(models: dict) -> dict:
    """The fastest fp32 way on every model and batch size among those meeting the agreement targets."""
    from inat.runtime.onnx_backend import AGREEMENT_TOP1, AGREEMENT_TOP5
    winners = set()
    for m, row in models.items():
        for b in ("ms_b1", "ms_b8"):
            ok = {w: r[b] for w, r in row["ways"].items() if w in BACKEND_OF
                  and r["top1"] >= AGREEMENT_TOP1 and r["top5_set"] >= AGREEMENT_TOP5}
            winners.add(min(ok, key=ok.get) if ok else None)
    one = winners.pop() if len(winners) == 1 else None
    return {"fp32_backend": BACKEND_OF.get(one),
            "rule": "fastest fp32 way at batch 1 and 8 on every model, at >= AGREEMENT_TOP1 / _TOP5 "
                    "agreement with fp32 eager PyTorch; null when the models or batch sizes disagree",
            "trust": "only from a run on a quiet machine: nothing else running, so the 1-minute load average "
                     "stays near the benchmark's own threads"}


def machine(threads: int) -> dict:
    flags = ""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags"))
    except (OSError, StopIteration):
        pass
    import nncf
    import onnxruntime
    import openvino
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": threads,
            "isa": sorted(f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16",
                                      "amx_int8") if f" {f}" in flags),
            "versions": {"onnxruntime": onnxruntime.__version__, "openvino": openvino.__version__.split("-")[0],
                         "nncf": nncf.__version__}}


def table(result: dict) -> str:
    lines = ["| model | way | ms/photo b1 | ms/photo b8 | top-1 | top-5 set |", "|---|---|---:|---:|---:|---:|"]
    for m, row in result["models"].items():
        for w, r in row["ways"].items():
            lines.append(f"| {m} | {w} | {r['ms_b1']} | {r['ms_b8']} | {100 * r['top1']:.2f} % | "
                         f"{100 * r['top5_set']:.2f} % |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="starter,plants47", help="comma list: starter, plants47 or bundle paths")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=200, help="timed photos (default 200)")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calibration-size", type=int, default=300, help="int8 calibration photos (default 300)")
    ap.add_argument("--no-int8", action="store_true", help="leave out OpenVINO int8 (NNCF takes a minute a model)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "inat-backend-speed",
                    help="where the exports go (reused while current)")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    timed, cal = photo_sets(args.data, args.limit)
    if not timed:
        print(f"no photos under {args.data}: this benchmark needs ../shared/data", file=sys.stderr)
        return 2
    import torch
    torch.set_num_threads(args.threads)
    from inat.models.registry import resolve
    from inat.runtime.export import PhotoInputs
    t0 = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t0:5.0f} s, load {os.getloadavg()[0]:.2f}] {msg}", flush=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(args.threads),
              "photos": {"timed": len(timed), "sets": "every k-th of imagenet-samples + inat21-plants47 val",
                         "calibration": min(args.calibration_size, len(cal))},
              "rounds": args.rounds, "models": {}}
    for m in args.models.split(","):
        bundle = resolve(str(REPO / "weights" / m) if m == "plants47" else m)
        log(f"{m}: {bundle.arch}, {bundle.num_outputs} outputs, {bundle.preprocess.input_size} px")
        ways = make_ways(bundle, args.work / m, cal, args.calibration_size, args.threads, not args.no_int8, log)
        x = np.concatenate(list(PhotoInputs(bundle, timed)))
        load = [round(os.getloadavg()[0], 2)]
        times, logits = speed(ways, x, args.rounds)
        load.append(round(os.getloadavg()[0], 2))
        agree = agreement(bundle, logits, x)
        result["models"][m] = {"arch": bundle.arch, "num_outputs": bundle.num_outputs,
                               "input_size": bundle.preprocess.input_size, "load_average_1min": load,
                               "ways": {w: {**times[w], **agree[w]} for w in ways}}
        for w in ways:
            r = result["models"][m]["ways"][w]
            log(f"  {w:9s} b1 {r['ms_b1']:7.2f} ms  b8 {r['ms_b8']:7.2f} ms  top-1 {r['top1']:.4f}  "
                f"top-5 {r['top5_set']:.4f}")
    result["verdict"] = verdict(result["models"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.json, result)
    print(table(result))
    print(f"verdict: FP32_BACKEND = {result['verdict']['fp32_backend']!r} ({result['verdict']['trust']})")
    print(f"wrote {args.json} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
