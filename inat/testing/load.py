"""The served app under load, for the tests and the robustness benchmark: `python demo.py` in its own process on a
free 127.0.0.1 port, and many gradio_client clients calling /identify with real photos back to back, plus clients
that misbehave (a huge-photo uploader, "slowloris" connections that send an upload's headers and then one byte a
second). A monitor polls /gradio_api/queue/status for the queue's length.

    served_app(folder, weights)    (url, process) of a started app; stop(process) ends it
    Load(url, clients, seconds, photos, huge=, slowloris=).run()   every figure of one run, as a dict
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from . import ROOT

CLIENT_TIMEOUT = 300.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(weights: Path, port: int, log: Path, env: dict | None = None,
              queue_size: int | None = None) -> subprocess.Popen:
    """`python demo.py` on 127.0.0.1:port with INAT_WEIGHTS=weights; output goes to `log`.

    `queue_size` replaces inat.app.layout.QUEUE_SIZE before the page is built (to measure a proposed value).
    """
    full = {**os.environ, "INAT_WEIGHTS": str(weights), "GRADIO_ANALYTICS_ENABLED": "False",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "OMP_WAIT_POLICY": "PASSIVE",
            "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "demo.py"]
    if queue_size is not None:
        cmd = [sys.executable, "-c", f"import sys, runpy, inat.app.layout; inat.app.layout.QUEUE_SIZE = {queue_size}; "
               "sys.argv = ['demo.py'] + sys.argv[1:]; runpy.run_path('demo.py', run_name='__main__')"]
    with open(log, "wb") as f:
        return subprocess.Popen(cmd + ["--port", str(port), "--host", "127.0.0.1"], cwd=ROOT,
                                env=full, stdout=f, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300) -> float:
    """Seconds until GET /gradio_api/info answers 200; raises when the server dies or times out."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=5) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the app did not answer within {timeout} s")


class Load:
    """Runs `clients` normal clients plus misbehaving ones for `seconds`; collects every figure."""

    def __init__(self, url: str, clients: int, seconds: float, photos: list[str], huge: str | None = None,
                 slowloris: int = 0, model: str | None = None):
        self.url, self.n, self.seconds, self.photos = url, clients, seconds, photos
        self.huge, self.n_slowloris, self.model = huge, slowloris, model
        self.lock = threading.Lock()
        self.requests: list[dict] = []   # {"client", "kind", "start", "latency", "ok", "error"}
        self.queue_samples: list[int] = []
        self.slowloris_held: list[float] = []
        self.connect_seconds = 0.0

    def _client(self):
        from gradio_client import Client
        # gradio_client's uploads and queue joins use httpx's 5 s default timeout; a browser waits
        # as long as it takes, so the clients here do too (a request that needs over 5 s is slow,
        # which the latencies show, not failed).
        return Client(self.url, verbose=False, download_files=False, analytics_enabled=False,
                      httpx_kwargs={"timeout": CLIENT_TIMEOUT})

    def warm_up(self) -> float:
        """One request before the measurement (the first one loads the model): its seconds."""
        from gradio_client import handle_file
        t0 = time.perf_counter()
        client = self._client()
        client.predict(handle_file(self.photos[0]), *((self.model,) if self.model else ()), api_name="/identify")
        client.close()
        return time.perf_counter() - t0

    def _loop(self, client, i: int, kind: str, start_at: float, stop_at: float):
        from gradio_client import handle_file
        k = i
        while time.perf_counter() < start_at:
            time.sleep(0.01)
        while time.perf_counter() < stop_at:
            photo = self.huge if kind == "huge" else self.photos[k % len(self.photos)]
            k += 1
            t0 = time.perf_counter()
            try:
                args = (handle_file(photo),) + ((self.model,) if self.model else ())
                label, card, raw = client.predict(*args, api_name="/identify")
                ok = bool(raw and raw.get("predictions")) and raw.get("error") is None
                err = None if ok else f"empty result {str(raw)[:100]}"
            except Exception as e:
                ok, err = False, f"{e.__class__.__name__}: {str(e)[:200]}"
            with self.lock:
                self.requests.append({"client": i, "kind": kind, "start": t0 - start_at,
                                      "latency": time.perf_counter() - t0, "ok": ok, "error": err})

    def _monitor(self, stop_at: float):
        while time.perf_counter() < stop_at:
            try:
                with urllib.request.urlopen(self.url + "gradio_api/queue/status", timeout=5) as r:
                    self.queue_samples.append(int(json.loads(r.read())["queue_size"]))
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)

    def _slowloris(self, stop_at: float):
        """An upload that never finishes: headers, then one byte a second, connection held open."""
        t0 = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", int(self.url.rsplit(":", 1)[1].strip("/"))), timeout=10) as s:
                s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 10000000\r\n\r\n"
                          b"--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"slow.jpg\"\r\n\r\n")
                while time.perf_counter() < stop_at:
                    s.sendall(b"\xff")
                    time.sleep(1.0)
        except OSError:
            pass  # the server may close an idle upload: that is allowed, not a failure
        with self.lock:
            self.slowloris_held.append(time.perf_counter() - t0)

    def run(self) -> dict:
        from concurrent.futures import ThreadPoolExecutor
        self.warm_up_seconds = self.warm_up()
        t0 = time.perf_counter()
        kinds = ["normal"] * self.n + (["huge"] if self.huge else [])
        with ThreadPoolExecutor(max(1, min(16, len(kinds)))) as pool:
            clients = list(pool.map(lambda _: self._client(), kinds))
        self.connect_seconds = time.perf_counter() - t0
        start_at = time.perf_counter() + 1.0
        stop_at = start_at + self.seconds
        threads = [threading.Thread(target=self._loop, args=(c, i, kind, start_at, stop_at), daemon=True)
                   for i, (c, kind) in enumerate(zip(clients, kinds))]
        threads.append(threading.Thread(target=self._monitor, args=(stop_at,), daemon=True))
        threads += [threading.Thread(target=self._slowloris, args=(stop_at,), daemon=True)
                    for _ in range(self.n_slowloris)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=self.seconds + 600)
        for c in clients:
            try:
                c.close()
            except Exception:
                pass
        return self.figures()

    def figures(self) -> dict:
        normal = [r for r in self.requests if r["kind"] == "normal"]
        huge = [r for r in self.requests if r["kind"] == "huge"]
        lat = sorted(r["latency"] for r in normal if r["ok"])

        def pct(q):
            return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else None
        per_client = [sum(1 for r in normal if r["client"] == i and r["ok"]) for i in range(self.n)]
        return {
            "clients": self.n, "seconds": self.seconds, "slowloris": self.n_slowloris, "huge_client": bool(self.huge),
            "requests": len(self.requests), "served": sum(r["ok"] for r in self.requests),
            "failed": sum(not r["ok"] for r in self.requests),
            "errors": sorted({r["error"] for r in self.requests if not r["ok"]})[:5],
            "normal_served": len(lat), "throughput_per_s": round(len(lat) / self.seconds, 2),
            "latency_p50_s": pct(0.50), "latency_p95_s": pct(0.95), "latency_max_s": round(lat[-1], 3) if lat else None,
            "latency_mean_s": round(statistics.fmean(lat), 3) if lat else None,
            "fewest_per_client": min(per_client) if per_client else 0,
            "huge_served": sum(r["ok"] for r in huge),
            "huge_latency_max_s": round(max((r["latency"] for r in huge if r["ok"]), default=0), 3) if huge else None,
            "queue_max": max(self.queue_samples, default=None), "queue_samples": len(self.queue_samples),
            "slowloris_held_s": [round(x, 1) for x in self.slowloris_held],
            "connect_s": round(self.connect_seconds, 1), "warm_up_s": round(getattr(self, "warm_up_seconds", 0), 1),
        }


def served_app(tmp: Path, weights: Path, env: dict | None = None, queue_size: int | None = None):
    """(url, process) of a started app; the caller terminates the process."""
    port = free_port()
    proc = start_app(weights, port, tmp / "app.log", env, queue_size)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_ready(url, proc)
    except Exception:
        proc.kill()
        raise RuntimeError((tmp / "app.log").read_text()[-3000:]) from None
    return url, proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
