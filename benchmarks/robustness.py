"""The robustness run: hostile images, untrusted checkpoints, load, interrupted training.

    python benchmarks/robustness.py            # the full run (about half an hour on 2 busy cores)
    python benchmarks/robustness.py --quick    # a few minutes: fewer cases, shorter load, fewer kills
    python benchmarks/robustness.py --only hostile,load

It prints the figures, writes benchmarks/results/robustness.json and the README's ROBUSTNESS
section to /tmp/readme_robustness.md (--readme to put it elsewhere). The generators and checks are
the test suite's own, from inat.testing (hostile, hostile_rig, damaged, load, interrupt): the tests
(test_hostile_images.py, test_untrusted.py, test_load.py, test_interrupt.py) run a few of each, this
runs many.

  hostile    ≥ 1,000 images: a deterministic sweep (every Pillow mode × every format Pillow writes,
             1×1 to 108 MP, animations, EXIF orientations 1-8, bombs, non-images, damaged files) plus
             hypothesis-drawn cases, each through Predictor.predict and the app's upload + identify
             handler on a tiny 32-px model; a subset again on the real starter model; the peak RSS
             growth of a process fed every decompression bomb.
  untrusted  hypothesis-mutated bundle.json, weights cut and bit-flipped at random, wrong dtypes and
             shapes; a live pickle offered as a model through every entry point, then imported with
             --trust-pickle (the only place it may run).
  load       the app (python demo.py, the real starter model) under 50 gradio_client clients for
             30 s: as shipped, then with QUEUE_SIZE = 64, then with a huge-photo uploader and
             slowloris connections added; a few hostile files over HTTP.
  interrupt  `python -m inat train` SIGKILLed at every commit point of the epoch loop and at random
             moments, resumed each time; files inspected after every kill, final run compared with an
             uninterrupted one.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

RESULTS = REPO / "benchmarks" / "results" / "robustness.json"
SECTIONS = ("hostile", "untrusted", "load", "interrupt")


def log(*args) -> None:
    print(*args, flush=True)


# Causes of the failures seen so far, for the README (the JSON keeps the raw messages).
KNOWN_CAUSES = {
    "unhashable type": "a list or dict as a taxonomy name, which Taxon.from_dict accepts",
    "out of bounds for axis": "a preprocess mean/std list not of length 3, which Preprocess accepts",
    "need at least one array": "an empty preprocess mean/std list, which Preprocess accepts",
    "crop_pct": "a preprocess crop_pct that is not a positive number, which Preprocess accepts",
    "division by zero": "a preprocess crop_pct of 0, which Preprocess accepts",
    "Queue is full": "the app's QUEUE_SIZE (20) turns away waiting requests",
}


def _cause(kind: str) -> str:
    exc = kind.split(":")[0]
    why = next((c for k, c in KNOWN_CAUSES.items() if k in kind), None)
    return f"`{exc}`" + (f" ({why})" if why else f": {kind}")


def _classify(msg: str) -> str:
    """A failure message with numbers and quoted values blanked, to group alike failures."""
    return re.sub(r"\d+(\.\d+)?|'[^']*'|\"[^\"]*\"", "#", msg)[:120]


# -----------------------------------------------------------------------------------------------
# Hostile images.

def hostile(tmp: Path, quick: bool, seed: int) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    import inat.testing.hostile as H
    from inat.identify.predict import Predictor
    from inat.testing.hostile_rig import bomb_memory, make_rig, run_case

    predictor, app = make_rig(tmp)
    folder = tmp / "cases"
    folder.mkdir()
    outcomes: list = []
    kinds: collections.Counter = collections.Counter()
    slowest = {"predictor": (0.0, ""), "app": (0.0, "")}

    def run(case, pred=predictor, rig=app, into=outcomes):
        kinds[case.kind.split(":")[0]] += 1
        for o in run_case(case, pred, rig, folder):
            into.append(o)
            if o.seconds > slowest[o.path][0]:
                slowest[o.path] = (o.seconds, o.case)

    t0 = time.perf_counter()
    sweep = H.sweep_cases(large=not quick)
    for case in sweep:
        run(case)
    n_sweep = len(sweep)
    log(f"hostile: sweep of {n_sweep} cases done in {time.perf_counter() - t0:.0f} s")

    n_hypo = 150 if quick else 1000
    drawn = [0]

    @hypothesis_seed(seed)
    @settings(max_examples=n_hypo, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=H.hostile_cases())
    def draw(case):
        drawn[0] += 1
        run(case)

    t1 = time.perf_counter()
    draw()
    log(f"hostile: {drawn[0]} hypothesis cases done in {time.perf_counter() - t1:.0f} s")

    # The real model on a subset: every mode once, orientations, bombs, non-images, damaged files.
    starter = Predictor("starter")
    real_cases = [c for c in sweep if not c.kind.startswith("valid:") or "/37x23" in c.kind][:: 1 if not quick else 3]
    real_outcomes: list = []
    t2 = time.perf_counter()
    for case in real_cases:
        for o in run_case(case, starter, (app[0], app[1], "starter"), folder):
            real_outcomes.append(o)
    log(f"hostile: {len(real_cases)} cases on the starter model in {time.perf_counter() - t2:.0f} s")

    bombs = H.bomb_cases()
    if not quick:
        bombs.append(H.Case("bomb:png-real/20000x20000", H.png_zero_bomb(20_000, 20_000), "png", "error", "too large"))
    mem = bomb_memory(predictor.bundle.path, bombs)

    def summary(outs):
        by = collections.Counter((o.path, o.status) for o in outs)
        fails = [f"{o.path} {o.case}: {o.message}" for o in outs if o.status == "FAIL"]
        return {"ok": {p: by[(p, "ok")] for p in ("predictor", "app")},
                "refused": {p: by[(p, "error")] for p in ("predictor", "app")},
                "failed": {p: by[(p, "FAIL")] for p in ("predictor", "app")}, "failures": len(fails),
                "failure_kinds": collections.Counter(_classify(f) for f in fails).most_common(10),
                "failure_examples": fails[:10],
                "max_seconds": {p: round(max((o.seconds for o in outs if o.path == p), default=0), 2)
                                for p in ("predictor", "app")}}
    sizes = [tuple(map(int, m.groups())) for c in sweep if (m := re.search(r"/(\d+)x(\d+)$", c.kind))
             and c.expect == "ok"]
    return {
        "inputs": n_sweep + drawn[0], "sweep": n_sweep, "hypothesis": drawn[0], "kinds": dict(kinds),
        "largest_identified_mp": round(max(w * h for w, h in sizes) / 1e6, 1),
        "tiny_model": summary(outcomes), "starter_model": {"inputs": len(real_cases), **summary(real_outcomes)},
        "slowest": {p: {"seconds": round(s, 2), "case": c} for p, (s, c) in slowest.items()},
        "bombs": {"cases": len(bombs), "refused": sum(1 for r in mem["results"] if r[1] and r[2]),
                  "baseline_rss_mb": mem["baseline_mb"], "rss_growth_mb": mem["growth_mb"]},
        "seconds": round(time.perf_counter() - t0),
    }


# -----------------------------------------------------------------------------------------------
# Untrusted checkpoints.

def untrusted(tmp: Path, quick: bool, seed: int) -> dict:
    import gradio as gr
    import torch
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from PIL import Image

    import inat.testing.damaged as U
    from inat.app import build_app
    from inat.cli.main import main as cli_main
    from inat.identify.predict import Predictor
    from inat.models.bundle import BundleError, load_bundle
    from inat.models.registry import resolve
    from inat.testing.bundles import make_bundle
    from inat.testing.handlers import app_identify
    from inat.testing.photos import sample_photo

    t0 = time.perf_counter()
    good = tmp / "good"
    make_bundle(good)
    photo = sample_photo("lion.jpg")
    meta = json.loads((good / "bundle.json").read_text())
    out: dict = {}

    def tally(name: str, statuses: list[tuple[str, str]]):
        fails = [why for s, why in statuses if s == "FAIL"]
        out[name] = {"tried": len(statuses), "ok": sum(s == "ok" for s, _ in statuses),
                     "refused_naming_file": sum(s == "refused" for s, _ in statuses), "failures": len(fails),
                     "failure_kinds": collections.Counter(_classify(f) for f in fails).most_common(8)}
        log(f"untrusted: {name}: {out[name]['tried']} tried, {out[name]['failures']} failures")

    settings_ = dict(deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    n = 60 if quick else 400

    statuses: list = []

    @hypothesis_seed(seed)
    @settings(max_examples=n, **settings_)
    @given(data=st.data())
    def mutate(data):
        text = data.draw(U.bundle_json_texts(meta))
        statuses.append(U.try_bundle(U.write_mutant(good, tmp / "mut", text), photo))
    mutate()
    tally("bundle_json_mutations", statuses)

    data = (good / "model.safetensors").read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    rng = random.Random(seed)
    cuts, flips = [], []
    for i in range(n // 4):
        folder = tmp / "cut"
        shutil.rmtree(folder, ignore_errors=True)
        U.bundle_with_weights_file(good, folder, U.cut(data, rng.randrange(len(data))))
        cuts.append(U.try_bundle(folder, photo))
        folder = tmp / "flip"
        shutil.rmtree(folder, ignore_errors=True)
        span = header * 8 if i % 2 else len(data) * 8
        positions = [rng.randrange(span) for _ in range(rng.randint(1, 8))]
        U.bundle_with_weights_file(good, folder, U.flip_bits(data, positions))
        flips.append(U.try_bundle(folder, photo))
    tally("weights_cut", cuts)
    tally("weights_bit_flips", flips)
    dtypes = [U.try_bundle(U.retyped(good, tmp / f"dt_{d}", getattr(torch, d)), photo)
              for d in ("int64", "int32", "int8", "uint8", "bool", "complex64", "float64", "bfloat16", "float16")]
    tally("weights_dtypes", dtypes)

    # A live pickle, offered everywhere a model is taken.
    marker = tmp / "UNPICKLED"
    files = U.write_pickles(tmp / "pickles", marker)
    offers = dict(files)
    for name, f in files.items():
        offers[f"{name}-as-safetensors"] = f.with_name(f.stem + ".safetensors")
        shutil.copy(f, offers[f"{name}-as-safetensors"])
        offers[f"{name}-in-bundle"] = U.bundle_with_weights_file(good, tmp / f"bundle-{name}", f.read_bytes())
    from inat.testing.datasets import make_inat_dataset  # the CLI's evaluate needs a dataset to be given
    dataset = make_inat_dataset(tmp / "ds")
    attempts, refused = 0, 0
    entries = {
        "resolve": lambda p: resolve(str(p)).load_model(),
        "load_bundle": lambda p: load_bundle(p).load_model(),
        "Predictor": lambda p: Predictor(str(p)),
        "Predictor(exact)": lambda p: Predictor(str(p), exact=True),
    }
    import contextlib
    import io
    for name, path in offers.items():
        for entry, call in entries.items():
            attempts += 1
            try:
                call(path)
            except BundleError:
                refused += 1
        for argv in (["predict", photo, "--model", str(path)],
                     ["evaluate", "--model", str(path), "--data", str(dataset)],
                     ["labels", "--model", str(path)], ["export", "--model", str(path), "--format", "onnx"]):
            if argv[0] == "labels" and name.endswith("-in-bundle"):
                continue  # labels reads bundle.json only
            attempts += 1
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                refused += cli_main(argv) != 0
    weights = tmp / "weights"
    shutil.copytree(good, weights / "tiny")
    (weights / "tiny" / "bundle.json").write_text(json.dumps({**meta, "name": "tiny", "default": True}))
    for name in ("pickle-p0", "pickle-p2", "pickle-p5", "torch-zip"):
        U.bundle_with_weights_file(good, weights / name, files[name].read_bytes())
    os.environ["INAT_WEIGHTS"] = str(weights)
    import logging
    logging.getLogger("inat.app").setLevel(logging.CRITICAL)  # its traceback of each refused model is expected here
    _, identify = app_identify(build_app(runs=[]))   # what /identify runs
    for name in ("pickle-p0", "pickle-p2", "pickle-p5", "torch-zip"):
        attempts += 1
        try:
            identify(Image.new("RGB", (64, 48), "green"), name)
        except gr.Error:
            refused += 1
    unpickled_unasked = marker.exists()
    # The one place a pickle may run: import --trust-pickle.
    from inat.models.architectures import create_model
    ckpt = tmp / "thesis.pth"
    torch.save({"state_dict": create_model("efficientnet_lite0", 3).state_dict(), "evil": U.Evil(marker)}, ckpt)
    tsv = tmp / "cats.tsv"
    tsv.write_text("common_name\tkingdom\tphylum\tclass\torder\tfamily\tgenus\tspecific_epithet\n"
                   + "".join(f"X{i}\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tPanthera\ts{i}\n"
                             for i in range(3)))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        refused_import = cli_main(["import", str(ckpt), "--categories", str(tsv), "--arch", "efficientnet_lite0",
                                   "--out", str(tmp / "imp0")]) != 0
        trusted_rc = cli_main(["import", str(ckpt), "--categories", str(tsv), "--arch", "efficientnet_lite0",
                               "--out", str(tmp / "imp1"), "--trust-pickle"])
    out["pickles"] = {"offers": len(offers), "attempts": attempts, "refused": refused,
                      "unpickled_without_trust": unpickled_unasked, "import_without_trust_refused": refused_import,
                      "import_trust_pickle_ran_it": marker.exists() and trusted_rc == 0}
    log(f"untrusted: pickles: {refused}/{attempts} refused, unpickled without trust: {unpickled_unasked}")
    out["seconds"] = round(time.perf_counter() - t0)
    return out


# -----------------------------------------------------------------------------------------------
# Load.

def load(tmp: Path, quick: bool, seed: int) -> dict:
    from gradio.media import get_image

    import inat.testing.hostile as H
    import inat.testing.load as L
    from inat.testing.photos import PHOTOS, huge_photo
    clients, seconds = (10, 5) if quick else (50, 30)
    photos = [str(get_image(p)) for p in PHOTOS]
    huge = huge_photo(tmp / "huge.jpg")
    weights = tmp / "empty-weights"  # the built-in starter is the default model
    weights.mkdir()
    out: dict = {"model": "starter (efficientnet_lite0, 224 px)", "huge_photo_mb": round(huge.stat().st_size / 1e6, 1)}
    from inat.app.layout import CONCURRENCY_LIMIT, QUEUE_SIZE
    # As shipped, then with slow clients; last, the first shipped QUEUE_SIZE (20), kept to show why it changed.
    runs = [("as_shipped", QUEUE_SIZE, False), ("as_shipped_with_slow_clients", QUEUE_SIZE, True),
            ("queue_20_first_shipped", 20, False)]
    proc = None
    current = object()
    try:
        for name, qsize, slow in runs:
            if qsize != current:
                if proc is not None:
                    L.stop(proc)
                t0 = time.perf_counter()
                log_dir = tmp / f"app-{qsize}"
                log_dir.mkdir()
                url, proc = L.served_app(log_dir, weights, queue_size=qsize)
                out.setdefault("startup_s", round(time.perf_counter() - t0, 1))
                current = qsize
            fig = L.Load(url, clients, seconds, photos, huge=str(huge) if slow else None,
                         slowloris=5 if slow else 0).run()
            fig["queue_size_setting"], fig["concurrency"] = qsize, CONCURRENCY_LIMIT
            out[name] = fig
            log(f"load: {name}: {fig['served']} served, {fig['failed']} failed, p50 {fig['latency_p50_s']} s, "
                f"p95 {fig['latency_p95_s']} s, max queue {fig['queue_max']}")
        # A few hostile files over HTTP, after the load, on the same server.
        from gradio_client import Client, handle_file
        from gradio_client.exceptions import AppError
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False,
                        httpx_kwargs={"timeout": L.CLIENT_TIMEOUT})
        corrupted = [c for c in H.sweep_cases() if c.kind.startswith("corrupt")]
        cases = H.bomb_cases()[:6] + H.not_image_cases()[:8] + corrupted[:10]
        http = collections.Counter()
        folder = tmp / "http"
        folder.mkdir()
        for c in cases:
            f = folder / c.name
            f.write_bytes(c.data)
            try:
                client.predict(handle_file(str(f)), api_name="/identify")
                http["ok"] += 1
            except AppError as e:
                msg = str(e).strip()
                http["one_sentence_error" if "\n" not in msg and msg.endswith(".") else "other_error"] += 1
            except Exception as e:
                http[f"failure {e.__class__.__name__}"] += 1
        http["server_alive"] = proc.poll() is None
        out["hostile_over_http"] = {"files": len(cases), **http}
        client.close()
    finally:
        if proc is not None:
            L.stop(proc)
    return out


# -----------------------------------------------------------------------------------------------
# Interrupted training.

def interrupt(tmp: Path, quick: bool, seed: int) -> dict:
    import inat.testing.interrupt as T
    from inat.testing.datasets import make_inat_dataset
    t0 = time.perf_counter()
    data = make_inat_dataset(tmp / "data")
    ref = T.reference_run(data, tmp / "reference", T.RUN_EPOCHS, T.RUN)
    log(f"interrupt: reference run {ref['seconds']:.0f} s, val top-1 {[h['val_top1'] for h in ref['history']]}")
    # os.replace calls per epoch: when the epoch is the best so far (as train.py ranks them: val top-1,
    # then top-5, earlier epoch on ties) weights → pending, bundle.json, pending → model.safetensors;
    # otherwise bundle.json alone; then the resume checkpoint.
    hist, commits = ref["history"], 0
    for i, h in enumerate(hist):
        best = max(hist[: i + 1], key=lambda x: (x["val_top1"], x["val_top5"], -x["epoch"]))
        commits += 4 if best is h else 2
    rng = random.Random(seed)
    points = list(range(1, commits + 1)) if not quick else sorted(rng.sample(range(1, commits + 1), 2))
    chains = []
    for n in points:
        rec = T.kill_until_done(data, tmp / f"commit{n}", ref, [("replace", n)])
        chains.append({"plan": f"kill at os.replace #{n}", **rec})
        log(f"interrupt: kill at commit #{n}: problems {rec['problems']}, final equal "
            f"{rec['final_history_equal'] and rec['final_weights_equal']}")
    for c in range(1 if quick else 3):
        delays = [("mid", rng.random()) for _ in range(2 if quick else 3)]
        rec = T.kill_until_done(data, tmp / f"random{c}", ref, delays)
        chains.append({"plan": f"{len(delays)} kills at random moments", **rec})
        log(f"interrupt: random chain {c}: {len(rec['kills'])} kills, problems {rec['problems']}")
    kills = [k for ch in chains for k in ch["kills"]]
    return {
        "run": "efficientnet_lite0 transfer, 64 px, 4 epochs, 24 training photos (relabelled tiny set)",
        "reference_seconds": round(ref["seconds"], 1), "reference_val_top1": [h["val_top1"] for h in ref["history"]],
        "chains": len(chains), "kills": len(kills),
        "kills_at_commit_points": sum(k["how"] == "replace" for k in kills),
        "kills_at_random_moments": sum(k["how"] in ("delay", "mid") for k in kills),
        "kills_before_first_epoch_on_disk": sum(not k.get("json_epochs") for k in kills),
        "kills_leaving_problems": sum(bool(k["problems"]) for k in kills),
        "problems": sorted({p for k in kills for p in k["problems"]}),
        "temp_files_left": sorted({t.split(".json")[0] + ".json*.tmp" if ".json" in t else t
                                   for k in kills for t in k["temp_files"]}),
        "leftovers_after_resumed_runs": sorted({f for ch in chains for f in ch["final_leftovers"]}),
        "resumed_runs_equal_to_uninterrupted": sum(ch["final_history_equal"] and ch["final_weights_equal"]
                                                   for ch in chains),
        "details": [{k: v for k, v in ch.items() if k != "problems"} for ch in chains],
        "seconds": round(time.perf_counter() - t0),
    }


# -----------------------------------------------------------------------------------------------
# The README section.

def readme(r: dict) -> str:
    loads = [r[s]["load_average_at_start"] for s in SECTIONS if "load_average_at_start" in r.get(s, {})]
    machine = (f"2 CPU cores, no GPU (load average {min(loads)}–{max(loads)} when the sections started, the "
               "benchmark's own earlier sections included)") if loads else r["machine"]
    lines = ["## ROBUSTNESS", "",
             f"Measured by `python benchmarks/robustness.py{' --quick' if r['quick'] else ''}` on {machine}, "
             f"{r['date']} (figures in `benchmarks/results/robustness.json`; the test suite runs short versions: "
             "`tests/test_hostile_images.py`, `test_untrusted.py`, `test_load.py`, `test_interrupt.py`). "
             "Latencies and seconds depend on that load.", ""]
    h = r.get("hostile")
    if h:
        t, s = h["tiny_model"], h["starter_model"]
        lines += ["**Hostile images.** "
                  f"{h['inputs']:,} generated inputs ({h['sweep']:,} from a fixed sweep, {h['hypothesis']:,} drawn by "
                  f"hypothesis): every Pillow mode in every format Pillow writes, 1×1 to "
                  f"{h.get('largest_identified_mp', 0):g} MP, "
                  "animations, EXIF "
                  "orientations 1–8 (checked upright), decompression bombs, text/HTML named .jpg, truncated, "
                  "bit-flipped and overwritten files, random bytes. Each went through the predictor and through "
                  "the app's upload + identify handler:", "",
                  "| | predictor | app |", "|---|---:|---:|",
                  f"| identified | {t['ok']['predictor']:,} | {t['ok']['app']:,} |",
                  f"| refused with a one-line error | {t['refused']['predictor']:,} | {t['refused']['app']:,} |",
                  f"| failures (crash, traceback, wrong answer, > 5 s) | {t['failed']['predictor']} | "
                  f"{t['failed']['app']} |",
                  f"| slowest input | {h['slowest']['predictor']['seconds']} s | "
                  f"{h['slowest']['app']['seconds']} s |", "",
                  f"On the real starter model, {s['inputs']} of them: {s['failures']} failures. "
                  f"{h['bombs']['refused']} of {h['bombs']['cases']} decompression bombs were refused before decoding; "
                  f"peak memory grew by {h['bombs']['rss_growth_mb']} MB while all of them were fed in.", ""]
    u = r.get("untrusted")
    if u:
        m, c, f, p = u["bundle_json_mutations"], u["weights_cut"], u["weights_bit_flips"], u["pickles"]
        lines += ["**Untrusted checkpoints.** "
                  f"{m['tried']} hypothesis-mutated bundle.json files: {m['ok']} still predict, "
                  f"{m['refused_naming_file']} are refused with the file named, {m['failures']} failures"
                  + (": " + "; ".join(f"{n} × {_cause(k)}" for k, n in m["failure_kinds"]) if m["failures"] else "")
                  + ". "
                  f"Weights cut at {c['tried']} random offsets: {c['refused_naming_file']} refused with the file named "
                  f"({c['failures']} failures); {f['tried']} random bit flips: {f['ok']} still predict finite "
                  f"probabilities, {f['refused_naming_file']} refused, {f['failures']} failures. Weights stored as "
                  f"{u['weights_dtypes']['tried']} dtypes: the {u['weights_dtypes']['ok']} float ones predict, the "
                  f"{u['weights_dtypes']['refused_naming_file']} others are refused with the file named. "
                  f"A live pickle offered as a model {p['attempts']} ways (CLI predict/evaluate/labels/export, "
                  f"Predictor, registry.resolve, load_bundle, the app's picker; as .pt, renamed .safetensors, inside "
                  f"a bundle folder): {p['refused']} refused, unpickled "
                  f"{'never' if not p['unpickled_without_trust'] else 'YES'}; "
                  f"`import --trust-pickle` ran it: {'yes' if p['import_trust_pickle_ran_it'] else 'no'}.", ""]
    lo = r.get("load")
    if lo:
        lines += [f"**Load.** The app (`python demo.py`, default model: the built-in starter, efficientnet_lite0 at "
                  f"224 px) under {lo.get('as_shipped', {}).get('clients')} gradio_client clients on loopback, "
                  f"{lo.get('as_shipped', {}).get('seconds')} s per run, each client sending photos back to back; "
                  f"2 requests run at a time, the rest wait in Gradio's queue:", "",
                  "| run | requests served | failed | p50 | p95 | max | longest queue |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        shipped = lo.get("as_shipped", {}).get("queue_size_setting")
        for name, label in (("as_shipped", f"as shipped (QUEUE_SIZE {shipped})"),
                            ("as_shipped_with_slow_clients", "as shipped + a huge-photo uploader + 5 slowloris"),
                            ("queue_20_first_shipped", "QUEUE_SIZE 20 (the first release's setting)")):
            x = lo.get(name)
            if x:
                lines.append(f"| {label} | {x['served']:,} | {x['failed']} | {x['latency_p50_s']:.1f} s | "
                             f"{x['latency_p95_s']:.1f} s | {x['latency_max_s']:.1f} s | {x['queue_max']} |")
        http = lo.get("hostile_over_http", {})
        slow = lo.get("as_shipped_with_slow_clients", {})
        if slow:
            base = lo["as_shipped"]
            lines += ["", f"The huge-photo client ({lo.get('huge_photo_mb')} MB, 24 MP) was served {slow['huge_served']} "
                      f"times (longest {slow['huge_latency_max_s']:.1f} s, queue wait included); the 5 slowloris "
                      f"connections stayed open for {max(slow['slowloris_held_s'], default=0)} s. The other clients "
                      f"kept their places in the queue: p50 and p95 moved by "
                      f"{slow['latency_p50_s'] - base['latency_p50_s']:+.1f} s and "
                      f"{slow['latency_p95_s'] - base['latency_p95_s']:+.1f} s against the run without them, and "
                      f"every client was served at least {slow['fewest_per_client']} times."]
        lines += ["", f"{http.get('files')} hostile files over HTTP afterwards: {http.get('one_sentence_error', 0)} "
                  f"one-sentence errors, {http.get('ok', 0)} identified, server still up: {http.get('server_alive')}.", ""]
    it = r.get("interrupt")
    if it:
        lines += ["**Interrupted training.** "
                  f"`python -m inat train` SIGKILLed {it['kills']} times ({it['kills_at_commit_points']} exactly "
                  "between "
                  f"a temp file and its rename, {it['kills_at_random_moments']} at random moments), resumed with "
                  f"`--resume` each time: {it['kills_leaving_problems']} kills left an inconsistent bundle"
                  + (f" ({'; '.join(p.replace('[', '').replace(']', '') for p in it['problems'])})"
                     if it["problems"] else "")
                  + f"; {it['resumed_runs_equal_to_uninterrupted']} of {it['chains']} resumed runs ended with exactly "
                  "the history and weights of an uninterrupted run. After every kill bundle.json and the resume "
                  "checkpoint parsed and held exactly the first epochs of the uninterrupted history"
                  + (f"; kills leave temp files behind ({', '.join(it['temp_files_left'])}), which `--resume` "
                     "removes" if it["temp_files_left"] else "")
                  + (f" (left after the resumed runs: {', '.join(it['leftovers_after_resumed_runs'])})"
                     if it.get("leftovers_after_resumed_runs") else "") + ".", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short run (fewer inputs, 10 clients × 5 s, fewer kills)")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({', '.join(SECTIONS)})")
    p.add_argument("--seed", type=int, default=20240607)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--readme", type=Path, default=Path("/tmp/readme_robustness.md"))
    p.add_argument("--report", action="store_true", help="only rewrite the README section from the saved figures")
    args = p.parse_args(argv)
    if args.report:
        text = readme(json.loads(args.out.read_text()))
        args.readme.write_text(text + "\n")
        log(text)
        return 0
    wanted = [s for s in args.only.split(",") if s]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}")
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    result = {**previous, "quick": args.quick, "seed": args.seed, "date": time.strftime("%Y-%m-%d"),
              "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}, shared: load average "
                         f"{os.getloadavg()[0]:.1f} at start), no GPU"}
    old_env = dict(os.environ)
    for name in wanted:
        with tempfile.TemporaryDirectory(prefix=f"inat-robust-{name}-") as tmp:
            t0 = time.perf_counter()
            log(f"== {name}")
            load_avg = round(os.getloadavg()[0], 1)
            result[name] = globals()[name](Path(tmp), args.quick, args.seed)
            result[name].setdefault("seconds", round(time.perf_counter() - t0))
            result[name]["load_average_at_start"] = load_avg  # the 2 cores are shared: timings depend on it
            os.environ.clear()
            os.environ.update(old_env)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.out, result)
    text = readme(result)
    args.readme.write_text(text + "\n")
    log("\n" + text)
    log(f"\nwrote {args.out} and {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
