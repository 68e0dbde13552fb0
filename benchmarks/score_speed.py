"""A whole archive: `python -m inat score` against `predict --csv` on the same real photos, a two-node Ray
cluster on this machine, and a SIGKILLed driver that resumes.

    flock /tmp/inat-cpu.lock python benchmarks/score_speed.py                 # 2,000 photos, naturalist
    python benchmarks/score_speed.py --photos 300 --model starter           # a quick look

The photos are real: every k-th JPEG of ../shared/data's collections (plants47, birds525, butterflies100,
flowers102, others), in one list file. Each figure is a whole command's wall time, start-up included,
as a person at the command line waits for it; the ONNX export is made once beforehand.
  predict   `python -m inat predict PHOTO... --csv OUT.csv --model M`
  score     `python -m inat score LIST --out DIR --model M` (a local Ray, started by the command); also
            its rate once the actors run (steady_photos_per_s: Ray's start and the model loads left out)
  cluster   the same with `--address` to a Ray cluster of one, then two, nodes of one CPU each, started
            on this machine with ray.cluster_utils.Cluster on the loopback interface only (`ray start`
            for a second node on one machine refuses to run unless Ray may listen on the machine's network
            address, which this benchmark must not do);
  kill      `score` with a part file every second, SIGKILLed once half the photos are in part files,
            then run again: every photo once, the first run's parts untouched, nothing scored twice.
Taxa are compared photo by photo with predict's CSV (scientific_name, taxon_rank, species_guess, and the
probabilities to 1e-4). Writes benchmarks/results/score_speed.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

DATA = REPO.parent / "shared" / "data"
COLLECTIONS = ("inat21-plants47", "birds525", "butterflies100", "flowers102", "others")
RESULTS = REPO / "benchmarks" / "results" / "score_speed.json"
LOOPBACK = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "PYTHONPATH": str(REPO)}
COMPARED = ("scientific_name", "taxon_rank", "species_guess")

# Keeps a Ray cluster of N one-CPU nodes on this machine alive until its stdin closes; prints its address.
CLUSTER = r"""
import sys
from ray.cluster_utils import Cluster
nodes = int(sys.argv[1])
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
for _ in range(nodes - 1):
    cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()
cluster.shutdown()
"""
# `python -m inat score` that also prints score()'s summary as JSON on stdout (steady_photos_per_s: the rate
# once the actors run, Ray's start and the model loads left out).
SCORE = ("import json, sys, inat.identify.score as s; f = s.score; "
         "s.score = lambda *a, **k: (lambda r: (print(json.dumps(r)), r)[1])(f(*a, **k)); "
         "from inat.cli.main import main; sys.exit(main(sys.argv[1:]))")
# `score` with a part file every second (so a kill at half way leaves several).
SCORE_OFTEN = "import sys, inat.identify.score; inat.identify.score.PART_SECONDS = 1.0; from inat.cli.main import main; sys.exit(main(sys.argv[1:]))"


def pick_photos(n: int) -> list[str]:
    photos = sorted(str(p) for c in COLLECTIONS for p in (DATA / c).rglob("*.jpg"))
    if len(photos) < n:
        sys.exit(f"needs {n} photos under {DATA}, found {len(photos)}")
    step = len(photos) / n
    return [photos[int(i * step)] for i in range(n)]  # spread over every collection


def timed(cmd, env=None) -> tuple[float, str, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env or LOOPBACK, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(map(str, cmd[:4]))}... failed:\n{done.stderr[-3000:]}")
    return seconds, done.stderr, done.stdout


def timed_score(listfile: Path, out: Path, model: str, *extra) -> dict:
    seconds, _, stdout = timed([sys.executable, "-c", SCORE, "score", str(listfile), "--out", str(out),
                                "--model", model, *extra])
    s = json.loads(stdout.strip().splitlines()[-1])
    return {"seconds": round(seconds, 2), "steady_photos_per_s": s["steady_photos_per_s"], "actors": s["actors"]}


def read_csv(path) -> dict:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def read_results(out) -> "object":
    import pyarrow.parquet as pq
    return pq.read_table(out).to_pandas()


def _text(v):
    return "" if v is None or v != v else v  # None and NaN are the CSV's empty cell


def compare(reference: dict, out) -> dict:
    """Photos whose taxa differ from predict's CSV, and whether every photo is there exactly once."""
    df = read_results(out)
    rows = df.set_index("file")
    differ = []
    for file, ref in reference.items():
        row = rows.loc[os.path.abspath(file)]
        same = all(_text(row[c]) == ref[c] for c in COMPARED) and all(
            abs(float(_text(row[c]) or 0) - float(ref[c] or 0)) <= 1e-4 for c in ("probability", "species_guess_probability"))
        if not same:
            differ.append(file)
    return {"rows": len(df), "unique": int(df["file"].nunique()), "taxa_differ": len(differ),
            "examples": differ[:5]}


def run_cluster(nodes: int, listfile: Path, model: str, out: Path) -> dict:
    holder = subprocess.Popen([sys.executable, "-c", CLUSTER, str(nodes)], cwd=REPO, env=LOOPBACK,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = holder.stdout.readline().strip()
        result = timed_score(listfile, out, model, "--address", address)
    finally:
        holder.stdin.close()
        holder.wait(timeout=120)
    return {"nodes": nodes, **result}


def part_rows(out: Path) -> dict:
    import pyarrow.parquet as pq
    return {p: pq.ParquetFile(p).metadata.num_rows for p in sorted(out.glob("part-*.parquet"))}


def ray_processes() -> set[int]:
    ps = subprocess.run(["ps", "-eo", "pid=,comm="], capture_output=True, text=True).stdout.splitlines()
    return {int(pid) for pid, _, comm in (line.strip().partition(" ") for line in ps)
            if comm.strip() in ("raylet", "gcs_server") or comm.strip().startswith("ray::")}


def kill_test(listfile: Path, model: str, n: int, out: Path) -> dict:
    cmd = [sys.executable, "-c", SCORE_OFTEN, "score", str(listfile), "--out", str(out), "--model", model]
    before = ray_processes()
    driver = subprocess.Popen(cmd, cwd=REPO, env=LOOPBACK, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while driver.poll() is None and sum(part_rows(out).values() if out.exists() else [0]) < n // 2:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    time.sleep(3)
    left = sorted(ray_processes() - before)  # Ray's processes of the killed driver still alive 3 s later
    for pid in left:  # (its node agents outlive it): stop them, they are ours
        os.kill(pid, signal.SIGTERM)
    parts = part_rows(out)
    stamps = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in parts}
    seconds, err, _ = timed(cmd)
    summary = err.strip().splitlines()[-1]
    already = int(re.search(r"(\d+) already scored", summary).group(1))
    df = read_results(out)
    return {"rows_at_kill": sum(parts.values()), "parts_at_kill": len(parts), "ray_processes_left": len(left),
            "rerun_summary": summary, "rerun_seconds": round(seconds, 2),
            "nothing_rescored": already == sum(parts.values()),
            "parts_untouched": all((p.stat().st_mtime_ns, p.stat().st_ino) == s for p, s in stamps.items()),
            "rows": len(df), "unique": int(df["file"].nunique()), "exactly_once": len(df) == n == df["file"].nunique()}


def cpu_name() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    flags = set(re.findall(r"avx2|avx512_bf16|amx_bf16|avx512_vnni", Path("/proc/cpuinfo").read_text()))
    return f"{model}, {os.cpu_count()} cores ({', '.join(sorted(flags))})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=2000)
    ap.add_argument("--model", default="naturalist")
    ap.add_argument("--rounds", type=int, default=3, help="predict and score, alternating; medians reported")
    args = ap.parse_args()
    photos = pick_photos(args.photos)
    tmp = Path(tempfile.mkdtemp(prefix="score_speed_"))
    try:
        listfile = tmp / "photos.txt"
        listfile.write_text("\n".join(photos) + "\n", encoding="utf-8")
        timed([sys.executable, "-m", "inat", "predict", *photos[:2], "--model", args.model])  # makes the export
        t_predict, scores = [], []
        for _ in range(args.rounds):  # alternating, so a busy spell of the shared machine hits both
            t_predict.append(timed([sys.executable, "-m", "inat", "predict", *photos, "--csv", str(tmp / "p.csv"),
                                    "--model", args.model])[0])
            shutil.rmtree(tmp / "local", ignore_errors=True)
            scores.append(timed_score(listfile, tmp / "local", args.model))
        reference = read_csv(tmp / "p.csv")
        t_median = statistics.median(t_predict)
        s_median = statistics.median(r["seconds"] for r in scores)
        steady = statistics.median(r["steady_photos_per_s"] for r in scores)
        result = {"photos": len(photos), "model": args.model, "cpu": cpu_name(), "load_average": os.getloadavg(),
                  "predict_csv": {"seconds": [round(t, 2) for t in t_predict],
                                  "photos_per_s": round(len(photos) / t_median, 1)},
                  "score": {"seconds": [r["seconds"] for r in scores], "photos_per_s": round(len(photos) / s_median, 1),
                            "steady_photos_per_s": steady, "actors": scores[0]["actors"],
                            **compare(reference, tmp / "local")},
                  "score_vs_predict": round(t_median / s_median, 3),
                  "score_steady_vs_predict": round(steady * t_median / len(photos), 3)}
        for nodes in (1, 2):
            r = run_cluster(nodes, listfile, args.model, tmp / f"cluster{nodes}")
            r.update(photos_per_s=round(len(photos) / r["seconds"], 1), **compare(reference, tmp / f"cluster{nodes}"))
            result[f"cluster_{nodes}_node"] = r
        result["kill"] = kill_test(listfile, args.model, len(photos), tmp / "killed")
        result["kill"].update(taxa_differ=compare(reference, tmp / "killed")["taxa_differ"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_results(RESULTS, result, show=True)


if __name__ == "__main__":
    main()
