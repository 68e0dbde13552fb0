"""How long `python demo.py` takes to serve, and to give its first answer.

    python benchmarks/demo_start.py            # 4 starts: the first warms the file cache, 3 are measured
    python benchmarks/demo_start.py --runs 6

Each start is a fresh `python demo.py --port P` process (the README's main command) with the models
folder of this checkout. Measured from just before the process is spawned:
  serving       the page `/` answers HTTP 200 (what a person opening the link sees);
  first result  a gradio_client call to the `identify` endpoint with a real photo returns its top-5
                (connecting the client included: the time a first visitor waits for an answer).
The first start of a series is reported but not counted: it reads every library from disk (a cold
install); the others are a warm install, which is what the 10 s target is about.
Writes benchmarks/results/demo_start.json and prints a table.
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from results_file import write_results  # benchmarks/ is on the path when run

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "demo_start.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def a_photo() -> str:
    """A real photo (../shared/data) when present, else one of Gradio's bundled samples."""
    found = sorted((SHARED / "imagenet-samples").glob("*.JPEG"))[:1]
    if found:
        return str(found[0])
    from gradio.media import get_image
    return str(get_image("cheetah.jpg"))


def one_start(photo: str, timeout: float = 300) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "demo.py", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        serving = None
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"demo.py exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        serving = time.perf_counter() - t0
                        break
            except OSError:
                time.sleep(0.1)
        if serving is None:
            raise TimeoutError(f"demo.py did not serve within {timeout} s")
        from gradio_client import Client, handle_file
        client = Client(url, verbose=False, download_files=False)
        label = client.predict(handle_file(photo), api_name="/identify")[0]
        first = time.perf_counter() - t0
        top = label.get("label") if isinstance(label, dict) else None
        return {"serving_s": round(serving, 2), "first_result_s": round(first, 2), "top1": top}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=4, help="starts in all, the first one not counted")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    photo = a_photo()
    starts = []
    for i in range(max(2, args.runs)):
        r = one_start(photo)
        starts.append(r)
        print(f"start {i + 1}{' (cold, not counted)' if i == 0 else ''}: serving after {r['serving_s']} s, "
              f"first result after {r['first_result_s']} s ({r['top1']})", flush=True)
    warm = starts[1:]
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), load average "
                   f"{os.getloadavg()[0]:.1f} at the end, no GPU",
        "python": platform.python_version(), "photo": Path(photo).name, "starts": starts,
        "warm_serving_median_s": round(statistics.median(s["serving_s"] for s in warm), 2),
        "warm_serving_max_s": max(s["serving_s"] for s in warm),
        "warm_first_result_median_s": round(statistics.median(s["first_result_s"] for s in warm), 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.out, result)
    print(f"\n| `python demo.py`, warm install ({len(warm)} starts) | median | max |\n|---|---:|---:|\n"
          f"| start → serving (HTTP 200) | {result['warm_serving_median_s']} s | {result['warm_serving_max_s']} s |\n"
          f"| start → first result (identify) | {result['warm_first_result_median_s']} s | "
          f"{max(s['first_result_s'] for s in warm)} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
