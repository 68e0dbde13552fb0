"""Interrupted training, for the tests and the robustness benchmark: SIGKILL `python -m inat train` at random
moments, then `--resume`.

After every kill the files on disk must be whole and agree with each other: bundle.json parses and
its history is exactly the first k epochs of an uninterrupted run; model.safetensors holds the
weights of the epoch bundle.json names as best; resume.safetensors parses and is at epoch k or k-1.
`--resume` then finishes the run, and the final history and weights equal the uninterrupted run's.

Two ways to kill: at a random moment of the training (a random fraction of the epochs still to run,
counted from the first progress bar, so mid-epoch or mid-write, never during the imports), or at the
n-th file replacement (`os.replace`, the commit step of every atomic write), which lands exactly
between writing a temp file and renaming it. The uninterrupted reference run snapshots its weights after
every epoch, so "the weights of epoch k" can be checked.

    reference_run(data, folder, epochs, extra)   the uninterrupted run, with its per-epoch weights
    kill_until_done(data, out, ref, kills)       kills as planned, inspecting the files after each; then --resume
    RUN, RUN_EPOCHS                              a run whose best epoch moves (every commit point is exercised)

tests/test_interrupt.py runs a few kills with these; benchmarks/robustness.py runs many.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import ROOT

EPOCHS = 3
# One thread: the same numbers in every process, and far faster than OpenMP on a busy 2-core box.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
       "PYTHONPATH": str(ROOT)}  # the children import this same `inat`
TIME_KEYS = ("seconds", "images_per_s")

# Runs inat.cli.main.main like `python -m inat`, optionally SIGKILLing itself at the n-th os.replace
# (INAT_KILL_AT_REPLACE) or saving the weights of every epoch (INAT_SNAPSHOT_DIR, the reference).
WRAPPER = r"""
import os, signal, sys
kill_at = int(os.environ.get("INAT_KILL_AT_REPLACE") or 0)
if kill_at:
    real_replace, count = os.replace, [0]
    def replace(src, dst, **kw):
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, **kw)
    os.replace = replace
snap = os.environ.get("INAT_SNAPSHOT_DIR")
if snap:
    import inat.training.checkpoint as ckpt
    real_save = ckpt.save
    def save(path, model, *args, **info):
        from safetensors.torch import save_file
        save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()},
                  os.path.join(snap, f"epoch{info['epoch']}.safetensors"))
        return real_save(path, model, *args, **info)
    ckpt.save = save
from inat.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def train_args(data, out, epochs: int = EPOCHS, resume: bool = False, extra: tuple = ()) -> list[str]:
    """`python -m inat train` arguments: efficientnet_b0 from scratch at 32 px, in-process loading."""
    return ["train", "--data", str(data), "--arch", "efficientnet_b0", "--init", "scratch", "--epochs", str(epochs),
            "--batch-size", "8", "--img-size", "32", "--workers", "0", "--device", "cpu", "--seed", "0",
            "--rotation", "10", *extra, "--out", str(out)] + (["--resume"] if resume else [])


def numbers(history: list[dict]) -> list[dict]:
    """The history without wall-clock figures (which never repeat)."""
    return [{k: v for k, v in h.items() if k not in TIME_KEYS} for h in history]


def same_history(a: list[dict], b: list[dict], tol: float = 1e-6) -> bool:
    na, nb = numbers(a), numbers(b)
    return len(na) == len(nb) and all(
        x.keys() == y.keys() and all(abs(x[k] - y[k]) <= tol * max(1.0, abs(y[k])) for k in x)
        for x, y in zip(na, nb))


def reference_run(data, folder: Path, epochs: int = EPOCHS, extra: tuple = ()) -> dict:
    """An uninterrupted run with per-epoch weight snapshots.

    Returns {"out", "history", "snapshots", "seconds", "epoch_seconds", "epochs", "extra"}; epoch_seconds
    is the median time between two epochs' snapshots (what a random mid-training kill is scaled by).
    """
    from inat.models.bundle import load_bundle
    folder.mkdir(parents=True, exist_ok=True)
    snaps = folder / "snapshots"
    snaps.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *train_args(data, folder / "out", epochs, extra=extra)],
                            cwd=ROOT, env={**ENV, "INAT_SNAPSHOT_DIR": str(snaps)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}
    reader = threading.Thread(target=lambda: setattr(proc, "err_text", proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None and time.perf_counter() - t0 < 1800:
        for e in range(1, epochs + 1):
            if e not in seen and (snaps / f"epoch{e}.safetensors").exists():
                seen[e] = time.perf_counter() - t0
        time.sleep(0.05)
    reader.join(60)
    if proc.wait() != 0:
        raise RuntimeError(f"the reference run failed: {getattr(proc, 'err_text', '')[-3000:]}")
    times = sorted(seen.values())
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    return {"out": folder / "out", "history": load_bundle(folder / "out").history, "epochs": epochs, "extra": extra,
            "snapshots": {e: snaps / f"epoch{e}.safetensors" for e in range(1, epochs + 1)},
            "seconds": time.perf_counter() - t0,
            "epoch_seconds": gaps[len(gaps) // 2] if gaps else (time.perf_counter() - t0) / epochs}


def run_and_kill(data, out: Path, epochs: int, *, resume: bool, delay: float | None = None,
                 after_start: float | None = None, kill_at_replace: int | None = None, timeout: float = 1800,
                 extra: tuple = ()) -> dict:
    """Start a training process and SIGKILL it `delay` seconds after launch, or `after_start` seconds
    after its first epoch starts (the progress bar's "epoch k/N" on stderr), or let it kill itself at
    the n-th os.replace. Returns {"killed", "returncode", "seconds", "stderr"}; "killed" is False when
    the run finished first."""
    env = {**ENV, "INAT_KILL_AT_REPLACE": str(kill_at_replace or 0)}
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *train_args(data, out, epochs, resume, extra)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.perf_counter()
    chunks: list[bytes] = []
    started = threading.Event()

    def read():  # tqdm redraws with \r, so read raw chunks rather than lines
        while chunk := os.read(proc.stderr.fileno(), 4096):
            chunks.append(chunk)
            if b"epoch " in b"".join(chunks[-2:]):
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if after_start is not None:
            while not started.wait(0.05) and proc.poll() is None and time.perf_counter() - t0 < timeout:
                pass
            delay = time.perf_counter() - t0 + after_start
        if delay is not None:
            try:
                proc.wait(timeout=max(0.0, delay - (time.perf_counter() - t0)))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(30)
    return {"killed": proc.returncode == -signal.SIGKILL, "returncode": proc.returncode,
            "seconds": time.perf_counter() - t0, "stderr": b"".join(chunks).decode("utf-8", "replace")}


def inspect(out: Path, ref: dict) -> tuple[dict, list[str]]:
    """What a killed run left in `out`, and every way it is incomplete or inconsistent.

    Returns ({"json_epochs", "resume_epoch", "best_epoch", "temp_files"}, problems).
    """
    import torch
    from safetensors.torch import load_file

    from inat.models.bundle import BundleError, load_bundle
    from inat.training import checkpoint
    from inat.training.train import RESUME_NAME
    state = {"json_epochs": None, "resume_epoch": None, "best_epoch": None,
             "temp_files": sorted(p.name for p in out.glob("*.tmp")) if out.is_dir() else []}
    problems: list[str] = []
    meta_file, weights, resume = out / "bundle.json", out / "model.safetensors", out / RESUME_NAME
    if meta_file.exists():
        try:
            meta = json.loads(meta_file.read_text())
            bundle = load_bundle(out)
        except (ValueError, BundleError) as e:
            return state, [f"bundle.json unreadable: {e}"]
        weights = bundle.weights_file  # the weights the project loads for this bundle.json
        hist = bundle.history
        state["json_epochs"] = len(hist)
        state["best_epoch"] = meta.get("run", {}).get("best_epoch")
        if [h["epoch"] for h in hist] != list(range(1, len(hist) + 1)):
            problems.append(f"history epochs {[h['epoch'] for h in hist]}")
        elif not same_history(hist, ref["history"][: len(hist)]):
            problems.append("history differs from the uninterrupted run's first epochs")
        if not weights.exists():
            problems.append("bundle.json without model.safetensors")
        else:
            try:
                got = load_file(str(weights))
            except Exception as e:
                problems.append(f"model.safetensors unreadable: {e.__class__.__name__}")
            else:
                best = state["best_epoch"]
                want = load_file(str(ref["snapshots"][best])) if best in ref["snapshots"] else None
                if want is None or set(got) != set(want) or not all(torch.equal(got[k], want[k]) for k in want):
                    def same(f):
                        w = load_file(str(f))
                        return set(w) == set(got) and all(torch.equal(got[k], w[k]) for k in w)
                    match = [e for e, f in ref["snapshots"].items() if same(f)]
                    problems.append(f"model.safetensors holds the weights of epoch "
                                    f"{', '.join(map(str, match)) or '?'}, bundle.json says best epoch {best}")
    elif weights.exists() or (out / "model.safetensors.pending").exists():
        state["orphan_weights"] = True  # killed in epoch 1 between the two files: no bundle yet, clear error
    if resume.exists():
        try:
            ck = checkpoint.load(resume)
        except ValueError as e:
            problems.append(f"resume checkpoint unreadable: {e}")
        else:
            state["resume_epoch"] = ck["epoch"]
            if len(ck["history"]) != ck["epoch"] or not same_history(ck["history"], ref["history"][: ck["epoch"]]):
                problems.append("resume checkpoint history differs from the uninterrupted run's")
            k = state["json_epochs"] or 0
            if ck["epoch"] not in (k, k - 1):
                problems.append(f"resume checkpoint at epoch {ck['epoch']}, bundle.json has {k} epochs")
    elif (state["json_epochs"] or 0) > 1:
        problems.append(f"no resume checkpoint after {state['json_epochs']} epochs")
    return state, problems


def kill_until_done(data, out: Path, ref: dict, kills: list, max_runs: int = 12) -> dict:
    """Kill the run as `kills` says, inspecting the files after each kill; then let `--resume` finish.

    Each kill is ("delay", seconds after launch), ("mid", fraction of the remaining training, counted
    from the first epoch's start) or ("replace", n: just before the n-th os.replace).
    Returns {"kills": [...], "problems", "final_history_equal", "final_weights_equal"}."""
    from inat.models.bundle import load_bundle
    from inat.training import checkpoint
    from inat.training.train import RESUME_NAME
    record = {"kills": [], "problems": []}
    plan = list(kills)
    for run in range(max_runs):
        how = plan.pop(0) if plan else None
        after = None
        if how and how[0] == "mid":  # a fraction of the training this run still has to do
            try:
                done_epochs = checkpoint.load(out / RESUME_NAME)["epoch"] if (out / RESUME_NAME).exists() else 0
            except ValueError:
                done_epochs = 0
            after = how[1] * ref["epoch_seconds"] * max(1, ref["epochs"] - done_epochs)
        result = run_and_kill(data, out, ref["epochs"], resume=run > 0, extra=ref["extra"], after_start=after,
                              delay=how[1] if how and how[0] == "delay" else None,
                              kill_at_replace=how[1] if how and how[0] == "replace" else None)
        if not result["killed"]:
            if result["returncode"] != 0:
                record["problems"].append(f"run {run} failed: {result['stderr'][-500:]}")
            break
        state, problems = inspect(out, ref)
        record["kills"].append({"how": how[0], "at": round(after if how[0] == "mid" else how[1], 2),
                                "alive_s": round(result["seconds"], 1), **state, "problems": problems})
        record["problems"] += problems
    final = load_bundle(out)
    record["final_history_equal"] = same_history(final.history, ref["history"])
    from safetensors.torch import load_file
    a, b = load_file(str(out / "model.safetensors")), load_file(str(ref["out"] / "model.safetensors"))
    record["final_weights_equal"] = set(a) == set(b) and all(bool((a[k] == b[k]).all()) for k in a)
    record["final_leftovers"] = sorted(p.name for p in out.iterdir()
                                       if p.name.endswith((".tmp", ".pending")))
    return record


# A run whose best epoch moves (validation top-1 rises over the first epochs on the tiny set): new best
# weights are written in more than one epoch, so every commit point of the epoch loop is exercised.
RUN = ("--arch", "efficientnet_lite0", "--init", "transfer", "--img-size", "64", "--lr", "0.002",
       "--warmup-epochs", "0")
RUN_EPOCHS = 4
