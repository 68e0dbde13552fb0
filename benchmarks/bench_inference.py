"""Inference speed: the thesis pipeline vs this project's Predictor, measured interleaved in ONE run.

    python benchmarks/bench_inference.py                 # ~5 min on a quiet 2-core machine
    python benchmarks/bench_inference.py --quick         # fewer photos and repeats, a smoke run
    python benchmarks/bench_inference.py --compare onnx  # also ours forced to ONNX Runtime fp32, in the same run

Both sides run the same model: efficientnet_v2_s with a 10,000-class head (random weights, seed 0:
speed does not depend on the values), made on the fly in a temporary folder.
  baseline  the thesis: `torch.load` of the whole pickled model (we made the pickle, so we trust it),
            PIL open + convert, Resize((224, 224)), ToTensor, Normalize(ImageNet), forward with
            autograd ON, softmax, top-5; one photo at a time, folders too.
  ours      `inat.identify.predict.Predictor` on the same weights imported as a bundle (`inat.models.importer`),
            exported once with `inat.runtime.export.ensure_export` (the one-time export cost is reported); its
            default backend and precision (OpenVINO bf16 on a CPU with native bf16, else ONNX Runtime
            fp32), folders in batches of 16. `--compare B` adds a side forced to backend B.
Measured on the same real photos (../shared/data; generated photos when absent):
  - single-photo latency, file path → top-5 (median, p95), the two sides alternating photo by photo;
  - a 12-megapixel JPEG (one of those photos upscaled), where reduced-scale JPEG decoding counts;
  - folder throughput over 200+ photos, alternating chunks of 40;
  - process start → first result, a fresh subprocess per side per repeat;
  - peak RSS of those subprocesses (one photo) and of the long-running workers (whole workload).
Each side runs in its own process, and the load on a shared machine hits both alike because they
alternate; the ratios are the figures to quote. Prints a table and writes JSON (benchmarks/results/).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

SHARED = REPO.parent / "shared" / "data"
NUM_CLASSES = 10_000
CHUNK = 40          # photos per alternating folder chunk
GAP_S = 0.05        # pause between the two sides' requests, so one's idle threads never spin into the other's time

# The thesis's inference code, run as its own process (the benchmark trusts the pickle it wrote itself).
BASELINE = r'''
import sys, time
import torch
from PIL import Image
from torchvision import transforms
import os
if os.environ.get("BENCH_THREADS"):  # only with --threads; the thesis used PyTorch's default
    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
model = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
model.eval()
transform = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
def predict_one(path):
    image = Image.open(path).convert("RGB")
    output = model(transform(image).unsqueeze(0))      # autograd on, as in the thesis
    prob, idx = torch.softmax(output, dim=1).topk(5)
    return idx[0].tolist()
def predict_many(paths):
    return [predict_one(p) for p in paths]
'''

OURS = r'''
import os, sys
from inat.identify.predict import Predictor
predictor = Predictor(sys.argv[1], threads=int(os.environ.get("BENCH_THREADS") or 0) or None,
                      **({"backend": sys.argv[2]} if len(sys.argv) > 2 and sys.argv[2] else {}))
def predict_one(path):
    return [p.taxon.class_id for p in predictor.predict([path], k=5)[0].predictions]
def predict_many(paths):
    return [[p.taxon.class_id for p in r.predictions] for r in predictor.predict(paths, k=5, batch_size=16)]
'''

# Appended to either side: answer one JSON request per stdin line (or a single photo with --once).
# Peak RSS is the process's own VmHWM: ru_maxrss of a child also counts its parent's memory at fork.
SERVE = r'''
import json, time
def peak_rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
if MODE == "once":
    print(json.dumps({"top5": predict_one(ONCE), "peak_rss_mb": peak_rss_mb()}), flush=True)
    sys.exit(0)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    t = time.perf_counter()
    if req["op"] == "one":
        out = predict_one(req["path"])
    elif req["op"] == "many":
        out = predict_many(req["paths"])
    else:
        out = None
    dt = time.perf_counter() - t
    print(json.dumps({"s": dt, "out": out, "peak_rss_mb": peak_rss_mb()}), flush=True)
'''


def side_code(side: str, mode: str, once: str | None = None) -> str:
    body = BASELINE if side == "baseline" else OURS
    return body + f"\nMODE = {mode!r}\nONCE = {once!r}\n" + SERVE


def side_argv(side: str, paths: dict, backends: dict) -> list[str]:
    """Command-line arguments of a side: the pickle, or the bundle and the backend to force."""
    return [str(paths["pickle"])] if side == "baseline" else [str(paths["bundle"]), backends.get(side) or ""]


# -- the model and the photos -----------------------------------------------------------------
def make_models(work: Path, photos: list[Path]) -> dict:
    """The thesis pickle, the same weights as a bundle, and the exports its default runs. Returns paths and timings."""
    import torch
    import torchvision

    from inat.core.taxonomy import THESIS_TSV_HEADER
    from inat.models.importer import import_checkpoint
    from inat.runtime.export import ensure_export, export_onnx
    out = {"pickle": work / "thesis_v2s.pt", "bundle": work / "thesis_v2s"}
    if not out["pickle"].is_file():
        torch.manual_seed(0)
        model = torchvision.models.efficientnet_v2_s(num_classes=NUM_CLASSES)
        recalibrate_batchnorm(model, photos[:32])
        torch.save(model, out["pickle"])
    tsv = work / "categories.tsv"
    if not tsv.is_file():
        rows = ["\t".join(THESIS_TSV_HEADER)]
        rows += [f"Species {i}\tAnimalia\tChordata\tAves\tOrder{i % 40}\tFamily{i % 300}\tGenus{i}\tspecies{i}"
                 for i in range(NUM_CLASSES)]
        tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    bundle = None
    if not (out["bundle"] / "bundle.json").is_file():
        bundle = import_checkpoint(out["pickle"], tsv, out["bundle"], trust_pickle=True)
    from inat.models.bundle import load_bundle
    bundle = load_bundle(out["bundle"])
    t = time.perf_counter()
    export_onnx(bundle)
    ensure_export(bundle)   # + the OpenVINO IR where the default runs it
    out["export_s"] = time.perf_counter() - t
    return out


def recalibrate_batchnorm(model, photos: list[Path]) -> None:
    """Give a randomly initialised model realistic activations: BatchNorm statistics from real photos.

    Freshly initialised, efficientnet_v2_s's activations shrink layer by layer to ~1e-6 (every photo
    gets the same near-zero logits, so top-1 is noise, and tiny floats can run on slow paths).
    Running statistics measured on photos make each layer's output unit-scale, like a trained model's.
    """
    import torch
    from PIL import Image
    from torchvision import transforms
    tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the batches
    model.train()
    with torch.no_grad():
        for i in range(0, len(photos), 16):
            model(torch.stack([tf(Image.open(p).convert("RGB")) for p in photos[i:i + 16]]))
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.1
    model.eval()


def real_photos(n: int) -> list[Path]:
    """n real photos alternating between the ImageNet samples and the plants (sorted, repeatable)."""
    sets = [sorted((SHARED / "imagenet-samples").glob("*.JPEG")),
            sorted((SHARED / "inat21-plants47").glob("val/*/*.jpg")) + sorted((SHARED / "inat21-plants47").glob("train_mini/*/*.jpg"))]
    sets = [s for s in sets if s]
    out = []
    for i in range(max((len(s) for s in sets), default=0)):
        out += [s[i] for s in sets if i < len(s)]
    return out[:n]


def generated_photos(folder: Path, n: int) -> list[Path]:
    """n synthetic 500×375 JPEGs (smooth colour fields with a subject), for machines without ../shared."""
    from PIL import Image, ImageFilter
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        f = folder / f"photo_{i:04d}.jpg"
        if not f.is_file():
            small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            im = Image.fromarray(small).resize((500, 375), Image.BICUBIC).filter(ImageFilter.GaussianBlur(3))
            im.save(f, quality=90)
        out.append(f)
    return out


def large_photo(src: Path, dst: Path) -> Path:
    """A 4000×3000 JPEG made by upscaling `src` (phones take photos this size)."""
    from PIL import Image
    if not dst.is_file():
        Image.open(src).convert("RGB").resize((4000, 3000), Image.BICUBIC).save(dst, quality=92)
    return dst


# -- running the sides ------------------------------------------------------------------------
def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("PYTHONWARNINGS", "ignore")
    return e


class Worker:
    """One long-running side, answering requests; its own times come back with each answer."""

    def __init__(self, side: str, paths: dict, backends: dict):
        self.side = side
        self.proc = subprocess.Popen([sys.executable, "-c", side_code(side, "serve"), *side_argv(side, paths, backends)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env(), cwd=REPO)
        self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.side} worker died (exit {self.proc.wait()})")
        return json.loads(line)

    def ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def cold_start(side: str, paths: dict, backends: dict, photo: Path) -> tuple[float, float, list]:
    """Seconds from spawning a fresh process to its first result, its peak RSS (MB), and the result."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", side_code(side, "once", str(photo)), *side_argv(side, paths, backends)],
                            stdout=subprocess.PIPE, text=True, env=env(), cwd=REPO)
    line = proc.stdout.readline()
    dt = time.perf_counter() - t
    if not line or proc.wait():
        raise RuntimeError(f"{side}: the one-photo run failed (exit {proc.wait()})")
    out = json.loads(line)
    return dt, out["peak_rss_mb"], out["top5"]


def alternate(i: int, sides: list[str]) -> list[str]:
    # ABBA order: neither side always runs right after another one.
    return sides if i % 2 == 0 else sides[::-1]


def measure(paths: dict, photos: list[Path], big: Path, args, backends: dict) -> dict:
    """Every figure for every side ("baseline", and one per entry of `backends`), interleaved."""
    sides = ["baseline", *backends]
    res: dict = {s: {} for s in sides}

    # Start → first result: a fresh process each time (one unmeasured round first warms the file cache).
    starts = {s: [] for s in sides}
    rss1 = {s: [] for s in sides}
    for r in range(args.starts + 1):
        for s in alternate(r, sides):
            dt, rss, _ = cold_start(s, paths, backends, photos[r % len(photos)])
            if r:
                starts[s].append(dt)
                rss1[s].append(rss)
            time.sleep(GAP_S)
    for s in sides:
        res[s]["start_s"] = float(np.median(starts[s]))
        res[s]["rss_one_photo_mb"] = float(max(rss1[s]))
    print(f"  start → first result: baseline {res['baseline']['start_s']:.2f} s, ours {res['ours']['start_s']:.2f} s",
          flush=True)

    workers = {s: Worker(s, paths, backends) for s in sides}
    try:
        for s in sides:  # warm-up: first calls allocate memory and pick kernels
            for p in photos[:2]:
                workers[s].ask(op="one", path=str(p))
        lat = {s: [] for s in sides}
        top = {s: [] for s in sides}
        for i, p in enumerate(photos[:args.latency_photos]):
            for s in alternate(i, sides):
                r = workers[s].ask(op="one", path=str(p))
                lat[s].append(r["s"])
                top[s].append(r["out"])
                time.sleep(GAP_S)
        for s in sides:
            res[s]["latency_median_ms"] = 1000 * float(np.median(lat[s]))
            res[s]["latency_p95_ms"] = 1000 * float(np.percentile(lat[s], 95))
        agree = [a[0] == b[0] for a, b in zip(top["baseline"], top["ours"])]
        res["top1_same_as_baseline"] = float(np.mean(agree))
        print(f"  latency: baseline {res['baseline']['latency_median_ms']:.0f} ms, ours "
              f"{res['ours']['latency_median_ms']:.0f} ms (median of {len(lat['ours'])})", flush=True)

        big_lat = {s: [] for s in sides}
        for i in range(args.big_repeats):
            for s in alternate(i, sides):
                big_lat[s].append(workers[s].ask(op="one", path=str(big))["s"])
                time.sleep(GAP_S)
        for s in sides:
            res[s]["latency_12mp_median_ms"] = 1000 * float(np.median(big_lat[s]))

        total = {s: 0.0 for s in sides}
        for i, start in enumerate(range(0, len(photos), CHUNK)):
            chunk = [str(p) for p in photos[start:start + CHUNK]]
            for s in alternate(i, sides):
                total[s] += workers[s].ask(op="many", paths=chunk)["s"]
                time.sleep(GAP_S)
            print(f"  folder: {start + len(chunk)}/{len(photos)} photos", flush=True)
        for s in sides:
            res[s]["folder_photos_per_s"] = len(photos) / total[s]
            res[s]["folder_s"] = total[s]
            res[s]["rss_workload_mb"] = workers[s].ask(op="rss")["peak_rss_mb"]
    finally:
        for w in workers.values():
            w.close()
    return res


def machine() -> dict:
    import onnxruntime
    import torch
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "onnxruntime": onnxruntime.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "threads_both_sides": os.environ.get("BENCH_THREADS") or "library defaults",
            "load_avg_start": os.getloadavg()}


def table(res: dict, n_photos: int) -> str:
    b, o = res["baseline"], res["ours"]
    rows = [
        ("single photo, median (ms)", b["latency_median_ms"], o["latency_median_ms"], True, "{:.0f}"),
        ("single photo, p95 (ms)", b["latency_p95_ms"], o["latency_p95_ms"], True, "{:.0f}"),
        ("12 MP JPEG, median (ms)", b["latency_12mp_median_ms"], o["latency_12mp_median_ms"], True, "{:.0f}"),
        (f"folder of {n_photos} photos (photos/s)", b["folder_photos_per_s"], o["folder_photos_per_s"], False, "{:.2f}"),
        ("start → first result (s)", b["start_s"], o["start_s"], True, "{:.2f}"),
        ("peak RSS, one photo (MB)", b["rss_one_photo_mb"], o["rss_one_photo_mb"], True, "{:.0f}"),
        ("peak RSS, whole workload (MB)", b["rss_workload_mb"], o["rss_workload_mb"], True, "{:.0f}"),
    ]
    out = ["| measure | thesis pipeline | inat Predictor | ours is |", "|---|---:|---:|---:|"]
    for name, x, y, lower_better, fmt in rows:
        ratio = x / y if lower_better else y / x
        out.append(f"| {name} | {fmt.format(x)} | {fmt.format(y)} | {ratio:.1f}× {'better' if ratio >= 1 else 'worse'} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=240, help="photos in the folder run (default 240)")
    ap.add_argument("--latency-photos", type=int, default=60, help="photos timed one by one (default 60)")
    ap.add_argument("--starts", type=int, default=3, help="fresh-process starts per side (default 3)")
    ap.add_argument("--big-repeats", type=int, default=5, help="12 MP photo repeats per side (default 5)")
    ap.add_argument("--compare", action="append", default=[], metavar="BACKEND",
                    help="also a side forced to this Predictor backend (torch, onnx, openvino, openvino-bf16; repeatable)")
    ap.add_argument("--backend", default=None, help="force the Predictor backend (torch, onnx, openvino, openvino-bf16)")
    ap.add_argument("--threads", type=int, default=None,
                    help="CPU threads for BOTH sides (default: each library's own default, as shipped)")
    ap.add_argument("--workdir", type=Path, default=None, help="keep models here and reuse them (default: temp)")
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "bench_inference.json",
                    help="where to write the figures")
    ap.add_argument("--quick", action="store_true", help="smoke run: 48 photos, 10 timed, 1 start")
    args = ap.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.quick:
        args.photos, args.latency_photos, args.starts, args.big_repeats = 48, 10, 1, 2
    if args.threads:
        os.environ["BENCH_THREADS"] = str(args.threads)  # inherited by every side's process
    work = args.workdir or Path(tempfile.mkdtemp(prefix="inat_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)  # ~400 MB of models


def run(args, work: Path) -> int:
    """The whole benchmark in `work`; prints the table and writes the JSON."""
    info = machine()
    print(f"machine: {info['cpu']}, {info['usable_cpus']} CPUs, torch {info['torch']}, onnxruntime "
          f"{info['onnxruntime']}, load {info['load_avg_start'][0]:.1f}", flush=True)
    photos = real_photos(args.photos)
    source = "real photos (../shared/data)"
    if len(photos) < args.photos:
        photos, source = generated_photos(work / "photos", args.photos), "generated photos (../shared/data absent)"
    paths = make_models(work, photos)
    big = large_photo(photos[0], work / "large_12mp.jpg")
    print(f"{len(photos)} {source}; one-time ONNX export {paths['export_s']:.0f} s", flush=True)

    backends = {"ours": args.backend, **{b: b for b in args.compare}}
    res = measure(paths, photos, big, args, backends)
    from inat.identify.predict import Predictor
    ours = Predictor(str(paths["bundle"]), **({"backend": args.backend} if args.backend else {}))
    res["ours_backend"], res["ours_precision"] = ours.backend, ours.precision
    info["load_avg_end"] = os.getloadavg()
    report = {"machine": info, "photos": len(photos), "photo_source": source, "model": "efficientnet_v2_s, 10,000 classes",
              "export_s": paths["export_s"], "results": res,
              "command": "python benchmarks/bench_inference.py " + " ".join(args.argv),
              "date": time.strftime("%Y-%m-%d %H:%M")}
    print()
    print(table(res, len(photos)))
    print(f"\nours = Predictor backend '{res['ours_backend']}' ({res['ours_precision']}); same top-1 as the baseline on "
          f"{100 * res['top1_same_as_baseline']:.0f} % of the timed photos; load average "
          f"{info['load_avg_start'][0]:.1f} → {info['load_avg_end'][0]:.1f} on {info['usable_cpus']} CPUs")
    for b in args.compare:
        c = res[b]
        print(f"{b}: {c['latency_median_ms']:.0f} ms a photo, {c['folder_photos_per_s']:.2f} photos/s")
    write_results(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
