"""Out of the box: a thesis checkpoint imported with `python -m inat import`, then `python -m inat predict`
over a folder, whole process, against the thesis pipeline over the same photos. Nothing run by hand.

    python benchmarks/out_of_the_box.py                  # 200 real photos, 3 rounds (~10 min on 2 cores)
    python benchmarks/out_of_the_box.py --photos 40 --rounds 1        # a smoke run

The checkpoint is the one `benchmarks/bench_inference.py` makes (a whole pickled efficientnet_v2_s with
10,000 classes, random weights with batch-norm statistics from real photos). Steps, each a fresh process:
  import    `python -m inat import CKPT --categories TSV --trust-pickle --out DIR` (it ends by making the
            bundle's ONNX export; its time is reported, paid once)
  thesis    the thesis's inference code over every photo, one at a time (bench_inference.BASELINE)
  ours      `python -m inat predict PHOTOS... --json`, stdout discarded
The two predict sides alternate round by round; each figure is the median wall time of the whole
process (start → exit). Writes results/out_of_the_box.json.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

RESULTS = REPO / "benchmarks" / "results" / "out_of_the_box.json"


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=REPO)
    return time.perf_counter() - t


def main(argv=None) -> int:
    import bench_inference as bi
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the checkpoint here and reuse it")
    args = ap.parse_args(argv)
    photos = bi.real_photos(args.photos)
    if len(photos) < args.photos:
        print(f"needs {args.photos} real photos from ../shared/data, found {len(photos)}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="inat-ootb-"))
    work.mkdir(parents=True, exist_ok=True)
    made = bi.make_models(work, photos, int8=False, calibration=None)   # the pickle and its categories TSV
    env = {**os.environ, "PYTHONPATH": str(REPO), "INAT_CACHE": str(work / "cache")}
    fresh = work / "fresh_import"
    if fresh.exists():
        import shutil
        shutil.rmtree(fresh)
    import_s = timed([sys.executable, "-m", "inat", "import", str(made["pickle"]), "--categories",
                      str(work / "categories.tsv"), "--trust-pickle", "--out", str(fresh)], env)
    baseline = work / "thesis_predict.py"
    baseline.write_text(bi.BASELINE + "\nfor p in sys.argv[2:]:\n    predict_one(p)\n", encoding="utf-8")
    files = [str(p) for p in photos]
    sides = {"thesis": [sys.executable, str(baseline), str(made["pickle"]), *files],
             "ours": [sys.executable, "-m", "inat", "predict", "--model", str(fresh), "--json", *files]}
    times: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(args.rounds):
        for name in (sides if r % 2 == 0 else reversed(list(sides))):
            times[name].append(timed(sides[name], env))
            print(f"round {r + 1}: {name} {times[name][-1]:.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "photos": len(files), "rounds": args.rounds,
           "load_average_start": list(os.getloadavg()), "import_s": round(import_s, 1),
           "export_made_by_import": any(fresh.glob("*.onnx")),
           "thesis_s": [round(x, 1) for x in times["thesis"]], "ours_s": [round(x, 1) for x in times["ours"]],
           "ratio": round(med["thesis"] / med["ours"], 2)}
    write_results(RESULTS, res, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
