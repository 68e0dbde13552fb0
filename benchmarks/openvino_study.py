"""OpenVINO against ONNX Runtime, and lower precisions: speed, and agreement with fp32 eager PyTorch.

    python benchmarks/openvino_study.py                   # starter, plants47, V2-S 10k (speed only)
    python benchmarks/openvino_study.py --quick           # 300 agreement photos, 3 rounds: a smoke run
    python benchmarks/openvino_study.py --models starter --recipes default,keep-depthwise

Ways of running the network, each on the same preprocessed inputs:
  ort fp32 / ort int8     ONNX Runtime on model.onnx / on the static int8 recipe (benchmarks/onnx_int8.py)
  ov fp32 / ov bf16       OpenVINO on the fp32 IR, precision hint f32 / bf16 (bf16 only where the CPU has it)
  ov fp32, fp16 weights   the IR saved with OpenVINO's default fp16 weight compression (run in fp32)
  nncf int8 <recipe>      OpenVINO int8 IRs quantized by NNCF with each recipe of RECIPES below
Photos (../shared/data), two disjoint sets, drawn with a fixed seed:
  agreement    every imagenet-samples photo (500), every plants47 val photo (470), 400 of train_mini
  calibration  the other train_mini photos, birds525, butterflies100 and flowers102, shuffled
Decoded and preprocessed as the predictor's default path does (reduced-scale JPEG decoding,
FastPreprocess). Agreement: top-1 identical and top-5 set identical (over the bundle's classes) vs
fp32 eager PyTorch on the same inputs ("torch"), and vs `Predictor(exact=True)` (full decoding and
the torchvision transform: the benchmarks/agreement.py judge). Speed: network alone, ms a photo at
batch 1 and 8, all ways of a model interleaved round by round (A B C A B C ...), median of rounds;
load average before and after. Also: two concurrent callers (the app serves two requests at once),
and load times. Writes benchmarks/results/openvino_study.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "openvino_study.json"
THREADS = 2
N_TRAIN_MINI_AGREEMENT = 400

# NNCF recipes tried (inat.runtime.openvino_backend.quantize reads these keys; the ones kept, with their figures,
# are inat.runtime.openvino_backend.RECIPES). "7bit" is NNCF's overflow fix
# on every layer: 7-bit weights, so that u8 x s8 products summed in pairs cannot saturate int16 on
# CPUs without VNNI (AVX2), where NNCF's default applies it to the first layer only.
BASE = {"preset": "performance", "fast_bias_correction": True, "ignore_types": [], "ignore_first_last": False,
        "subset_size": 300, "overflow_fix": "first_layer_only"}
RECIPES = {
    "default": {},
    "mixed": {"preset": "mixed"},
    "exact-bias": {"fast_bias_correction": False},
    "calib-1000": {"subset_size": 1000},
    "depthwise-fp32": {"ignore_types": ["GroupConvolution"]},
    "first-last-fp32": {"ignore_first_last": True},
    "depthwise+first-last-fp32": {"ignore_types": ["GroupConvolution"], "ignore_first_last": True},
    "7bit": {"overflow_fix": "enable"},
    "7bit+first-last-fp32": {"overflow_fix": "enable", "ignore_first_last": True},
    "7bit+depthwise+first-last-fp32": {"overflow_fix": "enable", "ignore_types": ["GroupConvolution"],
                                       "ignore_first_last": True},
}
# Measured on every agreement photo by default; the others were measured in a 300-photo pilot on
# the starter (benchmarks/results/openvino_study_pilot.json) and gained nothing.
MAIN_RECIPES = ["default", "first-last-fp32", "depthwise+first-last-fp32", "7bit", "7bit+first-last-fp32",
                "7bit+depthwise+first-last-fp32"]


# -- photos --------------------------------------------------------------------------------
def photo_sets(data: Path) -> tuple[list[Path], list[Path]]:
    """(agreement photos, calibration photos): disjoint, repeatable."""
    train_mini = sorted((data / "inat21-plants47").glob("train_mini/*/*.jpg"))
    random.Random(0).shuffle(train_mini)
    agreement = sorted((data / "imagenet-samples").glob("*.JPEG"))
    agreement += sorted((data / "inat21-plants47").glob("val/*/*.jpg"))
    agreement += sorted(train_mini[:N_TRAIN_MINI_AGREEMENT])
    calibration = train_mini[N_TRAIN_MINI_AGREEMENT:]
    for name in ("birds525", "butterflies100", "flowers102"):
        calibration += sorted((data / name).glob("photos/*/*.jpg"))
    random.Random(1).shuffle(calibration)
    return agreement, calibration


class Inputs:
    """Photos as model inputs, decoded on access exactly as the predictor's default path does."""

    def __init__(self, bundle, photos: list[Path]):
        from inat.core.preprocess import ArrayTransform, draft_size
        self.photos, self.fast, self.draft = photos, ArrayTransform(bundle.preprocess), draft_size(bundle.preprocess)

    def __len__(self):
        return len(self.photos)

    def __getitem__(self, i):
        from inat.core.images import open_image
        return self.fast(open_image(self.photos[i], draft_size=self.draft))[None]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def batch(self, start: int, stop: int) -> np.ndarray:
        return np.concatenate([self[i] for i in range(start, min(stop, len(self)))])


def symlink_folder(photos: list[Path], folder: Path) -> Path:
    """A folder of links to `photos` (onnx_int8.export_int8 takes a folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(photos):
        link = folder / f"{i:05d}{p.suffix.lower()}"
        if not link.exists():
            link.symlink_to(p)
    return folder


# -- the ways of running a model -----------------------------------------------------------
class Way:
    """One way of running the network: `run(x)` → logits."""

    def __init__(self, name: str, run, file: Path | None = None, note: str = ""):
        self.name, self.run, self.file, self.note = name, run, file, note

    def size_mb(self) -> float | None:
        if self.file is None:
            return None
        files = [self.file] + ([self.file.with_suffix(".bin")] if self.file.suffix == ".xml" else [])
        return round(sum(f.stat().st_size for f in files) / 1e6, 1)


def ort_way(name: str, file: Path) -> Way:
    from inat.runtime.onnx_backend import OnnxModel
    return Way(name, OnnxModel(file, THREADS).run, file)


def ov_way(name: str, file: Path, precision: str, **kw) -> Way:
    from inat.runtime.openvino_backend import open_model
    net = open_model(file, precision, THREADS, **kw)
    return Way(name, net.run, file, note=f"runs {net.precision}")


def make_ways(bundle, folder: Path, cal: list[Path], recipes: list[str], log) -> dict[str, Way]:
    """Every way of running `bundle`, exporting and converting into `folder` what is missing."""
    import openvino as ov
    from onnx_int8 import INT8_FILE, export_int8

    from inat.runtime.export import export_onnx
    from inat.runtime.onnx_backend import FILES
    from inat.runtime.openvino_backend import FILES as OV_FILES
    from inat.runtime.openvino_backend import convert
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / FILES["fp32"]
    if not onnx.is_file():
        t = time.perf_counter()
        export_onnx(bundle, folder)
        log(f"  exported {onnx} ({time.perf_counter() - t:.0f} s)")
    ways = {"ort fp32": ort_way("ort fp32", onnx)}
    int8 = folder / INT8_FILE
    if not int8.is_file():
        t = time.perf_counter()
        export_int8(bundle, symlink_folder(cal[:128], folder / "calibration"), n_calibration=128, n_check=0,
                    out_dir=folder)
        log(f"  ort int8 (existing recipe: 128 photos, MinMax, QDQ per-channel) {time.perf_counter() - t:.0f} s")
    ways["ort int8"] = ort_way("ort int8", int8)
    xml = folder / OV_FILES["fp32"]
    if not xml.is_file():
        t = time.perf_counter()
        convert(onnx, folder, "fp32")
        log(f"  converted {xml} ({time.perf_counter() - t:.1f} s)")
    ways["ov fp32"] = ov_way("ov fp32", xml, "fp32")
    ways["ov bf16"] = ov_way("ov bf16", xml, "bf16")
    half = folder / "fp16w" / "model.xml"
    if not half.is_file():
        half.parent.mkdir(exist_ok=True)
        ov.save_model(ov.Core().read_model(str(xml)), str(half), compress_to_fp16=True)
    ways["ov fp32, fp16 weights"] = ov_way("ov fp32, fp16 weights", half, "fp32")
    for r in recipes:
        out = folder / f"nncf-{r}"
        if not (out / OV_FILES["int8"]).is_file():
            t = time.perf_counter()
            spec = {**BASE, **RECIPES[r]}
            convert(onnx, out, "int8", calibration=Inputs(bundle, cal[:spec["subset_size"]]), recipe=spec)
            log(f"  nncf int8 {r}: {time.perf_counter() - t:.0f} s")
        ways[f"nncf int8 {r}"] = ov_way(f"nncf int8 {r}", out / OV_FILES["int8"], "int8")
    return ways


def bf16_emulation_way(bundle) -> Way:
    """fp32 PyTorch with every convolution's and linear layer's input, weight and output rounded to bf16.

    An estimate of what bf16 inference does to the answers (bf16 operands, fp32 accumulation), for
    CPUs without bf16, where OpenVINO ignores the bf16 hint. Not OpenVINO's kernels: BatchNorm is
    not folded into the weights first, and element-wise operations stay fp32.
    """
    import torch
    model = bundle.load_model()

    def rnd(t):
        return t.to(torch.bfloat16).to(torch.float32)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.weight.data = rnd(m.weight.data)
            m.register_forward_pre_hook(lambda _m, args: (rnd(args[0]),) + tuple(args[1:]))
            m.register_forward_hook(lambda _m, _args, out: rnd(out))

    def run(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()
    return Way("torch bf16 rounding (emulation)", run)


# -- agreement -----------------------------------------------------------------------------
def top5(logits: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(N, k) positions in `index` of the k best classes (stable order, like the predictor)."""
    k = min(5, len(index))
    return np.argsort(-logits[:, index], axis=1, kind="stable")[:, :k]


def agreement(bundle, ways: dict[str, Way], photos: list[Path], log, chunk: int = 32) -> dict:
    """Per way: top-1 / top-5-set agreement vs fp32 eager torch on the same inputs and vs exact=True."""
    import torch

    from inat.core.images import open_image
    from inat.identify.predict import Predictor
    model = bundle.load_model()
    exact = Predictor(bundle, exact=True, threads=THREADS)
    index = np.asarray(bundle.output_index)
    inputs = Inputs(bundle, photos)
    hits = {w: {"top1": 0, "top5": 0, "top1_exact": 0, "top5_exact": 0, "max_rel_dlogit": 0.0} for w in ways}
    ref_exact_vs_torch = {"top1": 0, "top5": 0}
    n = 0
    for start in range(0, len(photos), chunk):
        x = inputs.batch(start, start + chunk)
        with torch.inference_mode():
            ref_logits = model(torch.from_numpy(x)).numpy()
        ref = top5(ref_logits, index)
        ex = top5(exact.probabilities([open_image(p) for p in photos[start:start + chunk]]), index)
        ref_exact_vs_torch["top1"] += int((ref[:, 0] == ex[:, 0]).sum())
        ref_exact_vs_torch["top5"] += sum(set(a) == set(b) for a, b in zip(ref, ex))
        for w, way in ways.items():
            logits = way.run(x)
            got = top5(logits, index)
            h = hits[w]
            h["top1"] += int((got[:, 0] == ref[:, 0]).sum())
            h["top5"] += sum(set(a) == set(b) for a, b in zip(got, ref))
            h["top1_exact"] += int((got[:, 0] == ex[:, 0]).sum())
            h["top5_exact"] += sum(set(a) == set(b) for a, b in zip(got, ex))
            scale = np.abs(ref_logits).max(axis=1)
            rel = float((np.abs(logits - ref_logits).max(axis=1) / scale).max())
            h["max_rel_dlogit"] = max(h["max_rel_dlogit"], rel)
        n += len(x)
        if (start // chunk) % 10 == 0:
            log(f"  agreement {n}/{len(photos)}")
    out = {w: {"top1": round(h["top1"] / n, 4), "top5_set": round(h["top5"] / n, 4),
               "top1_vs_exact": round(h["top1_exact"] / n, 4), "top5_set_vs_exact": round(h["top5_exact"] / n, 4),
               "max_rel_dlogit": round(h["max_rel_dlogit"], 6), "photos": n} for w, h in hits.items()}
    out["torch, default decoding (reference)"] = {"top1_vs_exact": round(ref_exact_vs_torch["top1"] / n, 4),
                                                  "top5_set_vs_exact": round(ref_exact_vs_torch["top5"] / n, 4),
                                                  "photos": n}
    return out


# -- speed ---------------------------------------------------------------------------------
def speed(ways: dict[str, Way], x: np.ndarray, rounds: int, photos_per_sample: int = 16,
          batches=(1, 8)) -> dict:
    """ms a photo per way and batch: every way once per round, in turn; medians of the rounds."""
    samples = {(w, b): [] for w in ways for b in batches}
    for way in ways.values():
        for b in batches:
            way.run(x[:b])  # warm-up: first-call allocations and kernel choice
    for r in range(rounds):
        order = list(ways.items())
        if r % 2:
            order.reverse()  # neither end of the round always runs right after another's threads
        for w, way in order:
            for b in batches:
                calls = max(1, photos_per_sample // b)
                t = time.perf_counter()
                for _ in range(calls):
                    way.run(x[:b])
                samples[w, b].append((time.perf_counter() - t) / (calls * b) * 1000)
    return {w: {f"ms_b{b}": round(statistics.median(samples[w, b]), 2) for b in batches}
            | {f"ms_b{b}_samples": [round(s, 1) for s in samples[w, b]] for b in batches} for w in ways}


def concurrent(ways: dict[str, Way], x: np.ndarray, rounds: int, calls: int = 8) -> dict:
    """ms a photo when two threads call run(batch 1) at once, `calls` each; interleaved rounds, medians."""
    samples = {w: [] for w in ways}
    for r in range(rounds):
        for w, way in ways.items():
            errors = []

            def work():
                try:
                    for _ in range(calls):
                        way.run(x[:1])
                except Exception as e:  # report, don't hang
                    errors.append(e)
            threads = [threading.Thread(target=work) for _ in range(2)]
            t = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            if errors:
                raise errors[0]
            samples[w].append((time.perf_counter() - t) / (2 * calls) * 1000)
    return {w: {"ms_per_photo_2_callers": round(statistics.median(s), 2), "samples": [round(v, 1) for v in s]}
            for w, s in samples.items()}


def load_times(onnx: Path, xml: Path, repeats: int = 3) -> dict:
    """Seconds to import each runtime (fresh interpreter) and to open the model (in this process)."""
    import subprocess

    from inat.runtime.onnx_backend import OnnxModel
    from inat.runtime.openvino_backend import open_model
    out = {}
    for mod in ("onnxruntime", "openvino"):
        ts = []
        for _ in range(repeats):
            r = subprocess.run([sys.executable, "-c", f"import time; t = time.perf_counter(); import {mod}; "
                                f"print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
            ts.append(float(r.stdout))
        out[f"import {mod} s"] = round(statistics.median(ts), 2)
    ts = {"open ort session s": [], "open ov model s (read + compile)": []}
    for _ in range(repeats):
        t = time.perf_counter()
        OnnxModel(onnx, THREADS)
        ts["open ort session s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        open_model(xml, "fp32", THREADS)
        ts["open ov model s (read + compile)"].append(time.perf_counter() - t)
    out.update({k: round(statistics.median(v), 2) for k, v in ts.items()})
    return out


# -- the study -----------------------------------------------------------------------------
def machine() -> dict:
    flags = ""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags"))
    except (OSError, StopIteration):
        pass
    import openvino as ov
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "isa": sorted(f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
                          if f" {f}" in flags),
            "openvino_capabilities": list(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")),
            "threads_per_runtime": THREADS}


def versions() -> dict:
    import nncf
    import onnxruntime
    import openvino
    import torch
    return {"openvino": openvino.__version__.split("-")[0], "nncf": nncf.__version__,
            "onnxruntime": onnxruntime.__version__, "torch": torch.__version__}


def study_model(label: str, bundle, folder: Path, agree: list[Path], cal: list[Path], recipes: list[str],
                rounds: int, log, measure_agreement: bool = True) -> dict:
    log(f"{label}: {bundle.arch}, {bundle.num_outputs} outputs, {bundle.preprocess.input_size} px")
    ways = make_ways(bundle, folder, cal, recipes, log)
    row = {"arch": bundle.arch, "num_outputs": bundle.num_outputs, "input_size": bundle.preprocess.input_size,
           "ways": {w: {"file_mb": way.size_mb(), **({"note": way.note} if way.note else {})}
                    for w, way in ways.items()}}
    if measure_agreement:
        t = time.perf_counter()
        for w, a in agreement(bundle, ways, agree, log).items():
            row["ways"].setdefault(w, {}).update(a)
        log(f"  agreement on {len(agree)} photos: {time.perf_counter() - t:.0f} s")
    x = Inputs(bundle, agree).batch(0, 16)
    load = [os.getloadavg()[0]]
    for w, s in speed({k: v for k, v in ways.items() if k != "ov fp32, fp16 weights"}, x, rounds).items():
        row["ways"][w].update(s)
    load.append(os.getloadavg()[0])
    from inat.runtime.onnx_backend import FILES
    from inat.runtime.openvino_backend import FILES as OV_FILES
    xml = folder / OV_FILES["fp32"]
    serving = {"ort fp32 (one session)": ways["ort fp32"], "ov fp32 latency (request pool)": ways["ov fp32"],
               "ov fp32 throughput (request pool)": ov_way("tput", xml, "fp32", mode="throughput")}
    row["two_callers_b1"] = concurrent(serving, x, rounds)
    load.append(os.getloadavg()[0])
    row["single_caller_b1_throughput_mode_ms"] = speed({"t": serving["ov fp32 throughput (request pool)"]}, x,
                                                       max(3, rounds // 2), batches=(1,))["t"]["ms_b1"]
    row["load_times"] = load_times(folder / FILES["fp32"], xml)
    row["load_average_1min"] = load
    for w, r in row["ways"].items():
        log(f"  {w:34s} " + "  ".join(f"{k} {r[k]}" for k in ("ms_b1", "ms_b8", "top1", "top5_set") if k in r))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="starter,plants47,v2s", help="comma list of starter, plants47, v2s")
    ap.add_argument("--recipes", default=",".join(MAIN_RECIPES), help=f"NNCF recipes (of {', '.join(RECIPES)})")
    ap.add_argument("--v2s-recipes", default="default,7bit,7bit+depthwise+first-last-fp32",
                    help="NNCF recipes timed on V2-S")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "inat-openvino-study",
                    help="where exports and IRs go (reused between runs)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--limit", type=int, default=None, help="only N agreement photos (spread evenly)")
    ap.add_argument("--quick", action="store_true", help="300 agreement photos, 3 rounds")
    ap.add_argument("--speed-only", action="store_true", help="no agreement (e.g. a timing rerun with more rounds)")
    ap.add_argument("--json", type=Path, default=RESULTS)
    ap.add_argument("--add-bf16-emulation", action="store_true",
                    help="only add the agreement of bf16_emulation_way to the models of an existing --json")
    args = ap.parse_args(argv)
    if args.quick:
        args.limit, args.rounds = args.limit or 300, 3
    import torch
    torch.set_num_threads(THREADS)
    agree, cal = photo_sets(args.data)
    if not agree:
        print(f"no photos under {args.data}: this study needs ../shared/data", file=sys.stderr)
        return 2
    if args.limit:
        agree = agree[::max(1, len(agree) // args.limit)][:args.limit]
    assert not set(agree) & set(cal)
    t0 = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t0:6.0f} s, load {os.getloadavg()[0]:.1f}] {msg}", flush=True)

    from inat.models.registry import resolve
    if args.add_bf16_emulation:
        result = json.loads(args.json.read_text(encoding="utf-8"))
        for m in args.models.split(","):
            if m in result["models"] and m != "v2s":
                bundle = resolve("starter" if m == "starter" else str(REPO / "weights" / m))
                way = bf16_emulation_way(bundle)
                a = agreement(bundle, {way.name: way}, agree, log)
                note = "estimate: " + bf16_emulation_way.__doc__.split("\n")[0]
                result["models"][m]["ways"][way.name] = {**a[way.name], "note": note}
                log(f"{m}: {way.name}: {a[way.name]}")
        write_results(args.json, result)
        print(table(result))
        return 0
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "versions": versions(),
              "photos": {"agreement": len(agree), "calibration_pool": len(cal),
                         "agreement_sets": "imagenet-samples (all), plants47 val (all), "
                                           f"{N_TRAIN_MINI_AGREEMENT} of plants47 train_mini (seed 0)",
                         "calibration_sets": "the rest of train_mini, birds525, butterflies100, flowers102 (seed 1)"},
              "recipes": {r: {**BASE, **RECIPES[r]} for r in RECIPES},
              "load_average_start": os.getloadavg(), "rounds": args.rounds, "models": {}}
    recipes = [r for r in args.recipes.split(",") if r]
    for m in args.models.split(","):
        if m == "v2s":
            import bench_inference as B

            from inat.models.bundle import load_bundle
            paths = B.make_models(args.work / "v2s", cal[:32])
            bundle = load_bundle(paths["bundle"])
            row = study_model("v2s", bundle, paths["bundle"], agree, cal, args.v2s_recipes.split(","), args.rounds,
                              log, measure_agreement=False)
        else:
            bundle = resolve("starter" if m == "starter" else str(REPO / "weights" / m))
            row = study_model(m, bundle, args.work / m, agree, cal, recipes, args.rounds, log,
                              measure_agreement=not args.speed_only)
        result["models"][m] = row
        result["load_average_end"] = os.getloadavg()
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_results(args.json, result)  # after each model
    print(table(result))
    print(f"wrote {args.json} ({time.perf_counter() - t0:.0f} s)")
    return 0


def table(result: dict) -> str:
    """The Markdown table of a result file."""
    lines = ["| model | way | ms/photo b1 | ms/photo b8 | top-1 | top-5 set | top-1 / top-5 vs exact=True | MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    pct = lambda v: "—" if v is None else f"{100 * v:.1f} %"  # noqa: E731
    for m, row in result["models"].items():
        for w, r in row["ways"].items():
            if not {"ms_b1", "top1", "top1_vs_exact"} & set(r):
                continue
            vs_exact = ("—" if "top1_vs_exact" not in r
                        else f"{pct(r['top1_vs_exact'])} / {pct(r['top5_set_vs_exact'])}")
            lines.append(f"| {m} | {w} | {r.get('ms_b1', '—')} | {r.get('ms_b8', '—')} | {pct(r.get('top1'))} | "
                         f"{pct(r.get('top5_set'))} | {vs_exact} | {r.get('file_mb') or '—'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
