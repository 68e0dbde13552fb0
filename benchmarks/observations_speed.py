"""A day's photos: the Observations tab against `python -m inat predict DIR --csv`, same model, same photos.

    python benchmarks/observations_speed.py              # 200 photos, the default model, one round
    python benchmarks/observations_speed.py --photos 50 --rounds 3 --model plants47

The photos are real (../shared/data/inat21-plants47/val, spread over its species), copied into a
temporary folder with a day's EXIF spliced into each copy (pixels untouched): DateTimeOriginal two
minutes apart with OffsetTimeOriginal -07:00, and a GPS position along a walk near Felton, California
(every tenth photo has no position, as indoors). Each round, measured from just before the spawn:
  cli   `python -m inat predict DIR --csv OUT.csv --model M`: the whole process (start, model load, EXIF,
        places, CSV), what a person at the command line waits for;
  tab   the same photos through gradio_client to the `observations` endpoint of `python demo.py`
        (served, model already loaded, as the page is when someone uses it): uploading the files,
        identifying, thumbnails, table, map, CSV, and downloading the CSV. gradio_client uploads
        files one HTTP request each (a new connection every time);
  page  the same endpoint with the files uploaded in one request, as the page's own JavaScript client
        does (1,000 files a request), then called through Gradio's HTTP API (/gradio_api/call/...)
        and the CSV downloaded: what someone using the tab waits for, less the browser's drawing;
  upload_one_by_one   the uploads alone, one request each, as gradio_client makes them.
Before the rounds, one untimed run of each on two photos makes the model's ONNX version (once) and
loads the model in the app. The two CSVs are compared row by row (same taxon and probability for each
file). Writes benchmarks/results/observations_speed.json and prints the figures.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

SHARED = REPO.parent / "shared" / "data" / "inat21-plants47" / "val"
RESULTS = REPO / "benchmarks" / "results" / "observations_speed.json"
START = (37.0447, -122.1072)  # Felton, California: the plants47 photos are from Santa Cruz County


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_day(n: int, folder: Path, seed: int = 0) -> list[Path]:
    """n real photos copied into `folder` with a day's EXIF date, time zone and (mostly) GPS position."""
    from inat.testing.photos import add_exif_to_jpeg, exif_block
    photos = sorted(SHARED.glob("*/*.jpg"))
    if len(photos) < n:
        sys.exit(f"needs {n} photos in {SHARED}, found {len(photos)}")
    picked = photos[:: max(1, len(photos) // n)][:n]  # every k-th: all species, not the first few
    rng = np.random.default_rng(seed)
    lat, lon = START
    when = datetime(2024, 5, 4, 8, 0, 0)
    out = []
    for i, src in enumerate(picked):
        lat, lon = lat + rng.normal(0, 0.001), lon + rng.normal(0.0005, 0.001)
        position = (None, None) if i % 10 == 9 else (lat, lon)
        dst = folder / f"IMG_{i + 1:04d}.jpg"
        add_exif_to_jpeg(src, dst, exif_block(when.strftime("%Y:%m:%d %H:%M:%S"), "-07:00", *position))
        when += timedelta(minutes=2)
        out.append(dst)
    return out


def run_cli(folder: Path, model: str, out: Path) -> float:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "inat", "predict", str(folder), "--csv", str(out), "--model", model],
                          cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"predict --csv exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds


class ServedApp:
    """`python demo.py` on a free port, until closed."""

    def __init__(self, timeout: float = 300):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "demo.py", "--port", str(self.port)], cwd=REPO, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"demo.py exited: {self.log.read().decode(errors='replace')[-800:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("demo.py did not serve in time")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_tab(client, files: list[Path], model: str) -> tuple[float, Path]:
    from gradio_client import handle_file
    t0 = time.perf_counter()
    _, _, _, csv_file = client.predict([handle_file(str(f)) for f in files], model, api_name="/observations")
    return time.perf_counter() - t0, Path(csv_file)


def run_page(url: str, files: list[Path], model: str, downloads: Path) -> tuple[float, Path]:
    """One upload request for every file, then the endpoint through Gradio's HTTP API; (seconds, CSV)."""
    import httpx
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as http:
        handles = [open(f, "rb") for f in files]
        try:
            r = http.post("gradio_api/upload", files=[("files", (f.name, h)) for f, h in zip(files, handles)])
        finally:
            for h in handles:
                h.close()
        r.raise_for_status()
        data = [[{"path": p, "orig_name": f.name, "meta": {"_type": "gradio.FileData"}} for p, f in zip(r.json(), files)],
                model]
        event = http.post("gradio_api/call/observations", json={"data": data}).json()["event_id"]
        answer = None
        with http.stream("GET", f"gradio_api/call/observations/{event}") as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    answer = (kind, json.loads(line.split(":", 1)[1]))
                    break
        if answer is None or answer[0] != "complete":
            raise RuntimeError(f"observations endpoint failed: {answer}")
        csv_url = answer[1][3]["url"]
        out = downloads / f"page-{time.time_ns()}.csv"
        downloads.mkdir(parents=True, exist_ok=True)
        out.write_bytes(http.get(csv_url).content)
    return time.perf_counter() - t0, out


def upload_one_by_one(url: str, files: list[Path]) -> float:
    """The uploads alone, one request (and connection) each, as gradio_client makes them."""
    import httpx
    t0 = time.perf_counter()
    for f in files:
        with open(f, "rb") as h:
            httpx.post(url + "gradio_api/upload", files=[("files", (f.name, h))], timeout=60).raise_for_status()
    return time.perf_counter() - t0


def agreement(cli_csv: Path, tab_csv: Path) -> dict:
    """Rows of both CSVs matched by file name: how many name the same taxon with the same probability."""
    def rows(path):
        with open(path, encoding="utf-8", newline="") as f:
            return {Path(r["file"]).name: r for r in csv.DictReader(f)}
    a, b = rows(cli_csv), rows(tab_csv)
    keys = ("observed_on", "latitude", "longitude", "place_guess", "scientific_name", "taxon_rank", "species_guess")
    same = sum(1 for name in a if name in b and all(a[name][k] == b[name][k] for k in keys)
               and abs(float(a[name]["species_guess_probability"] or 0) - float(b[name]["species_guess_probability"] or 0))
               < 1e-3)
    return {"cli_rows": len(a), "tab_rows": len(b), "same_rows": same,
            "with_position": sum(1 for r in a.values() if r["latitude"]),
            "with_place": sum(1 for r in a.values() if r["place_guess"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default=None, help="model name (default: the default model)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED}")
    from gradio_client import Client

    from inat.models.registry import default_model
    model = args.model or default_model()
    work = Path(tempfile.mkdtemp(prefix="inat-obs-bench-"))
    app = None
    try:
        day = work / "day"
        day.mkdir()
        files = make_day(args.photos, day)
        warm = work / "warm"
        warm.mkdir()
        for f in files[:2]:
            shutil.copy(f, warm)
        load_before = os.getloadavg()
        run_cli(warm, model, work / "warm.csv")  # makes the ONNX version once; not timed
        app = ServedApp()
        client = Client(app.url, verbose=False, download_files=str(work / "downloads"))
        run_tab(client, sorted(warm.iterdir()), model)  # the model loads in the app; not timed
        cli_s, tab_s, page_s, upload_s, agree = [], [], [], [], None
        for r in range(args.rounds):
            cli_s.append(run_cli(day, model, work / f"cli{r}.csv"))
            seconds, tab_csv = run_tab(client, files, model)
            tab_s.append(seconds)
            seconds, page_csv = run_page(app.url, files, model, work / "downloads")
            page_s.append(seconds)
            upload_s.append(upload_one_by_one(app.url, files))
            agree = {"tab": agreement(work / f"cli{r}.csv", tab_csv), "page": agreement(work / f"cli{r}.csv", page_csv)}
            print(f"round {r + 1}: cli {cli_s[-1]:.1f} s, tab {tab_s[-1]:.1f} s, page {page_s[-1]:.1f} s, "
                  f"uploads one by one {upload_s[-1]:.1f} s", flush=True)
        load_after = os.getloadavg()
    finally:
        if app is not None:
            app.close()
        shutil.rmtree(work, ignore_errors=True)
    cli, tab, page = statistics.median(cli_s), statistics.median(tab_s), statistics.median(page_s)
    result = {
        "date": datetime.now().strftime("%Y-%m-%d"), "model": model, "photos": args.photos, "rounds": args.rounds,
        "source": "../shared/data/inat21-plants47/val (every k-th photo), EXIF date/GPS spliced in",
        "cli_s": [round(x, 2) for x in cli_s], "tab_s": [round(x, 2) for x in tab_s],
        "page_s": [round(x, 2) for x in page_s], "upload_one_by_one_s": [round(x, 2) for x in upload_s],
        "cli_median_s": round(cli, 2), "tab_median_s": round(tab, 2), "page_median_s": round(page, 2),
        "tab_over_cli": round(tab / cli, 2), "page_over_cli": round(page / cli, 2),
        "cli_photos_per_s": round(args.photos / cli, 2), "tab_photos_per_s": round(args.photos / tab, 2),
        "page_photos_per_s": round(args.photos / page, 2),
        "target_tab_over_cli": 1.5, "agreement": agree,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    write_results(RESULTS, result, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
