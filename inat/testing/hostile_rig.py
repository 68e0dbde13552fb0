"""Hostile images through the predictor and the app's identify function, for the tests and the robustness benchmark.

Each case (`hostile.Case`) goes through `Predictor.predict` (a path, as the CLI gives it) and through the app:
its photo component's `preprocess` (what Gradio calls on an upload) and then the handler of /identify. Allowed
outcomes: a result with finite probabilities, or the project's own one-line error (`Identification.error`, a
gr.Error of one sentence). Anything else (another exception, a traceback in the message, non-finite numbers,
> 5 s) is a failure.

    make_rig(folder)               (predictor, app) on a tiny 32-px bundle
    run_case(case, predictor, app, folder) → [Outcome]; failures(outcomes) → the failed ones, one line each
    bomb_memory(bundle, cases)     peak RSS growth of a fresh process fed every case
"""
from __future__ import annotations

import faulthandler
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.images import open_image
from . import ROOT
from .bundles import make_bundle
from .handlers import app_identify
from .hostile import Case, check_upright
from .photos import sample_photo

SECONDS_LIMIT = 5.0          # no input may take longer than this, on either path
HANG_ABORT = 120             # a real hang dumps every thread's stack and ends the process


@dataclass
class Outcome:
    """What one path made of one case: status "ok", "error" (a proper one-line error) or "FAIL"."""

    case: str
    path: str
    status: str
    message: str = ""
    seconds: float = 0.0


def one_line(msg) -> bool:
    return isinstance(msg, str) and 0 < len(msg) <= 400 and "\n" not in msg and "Traceback" not in msg


def _finite_probabilities(p) -> str | None:
    if not p:
        return "no predictions"
    if not all(isinstance(v, float) and math.isfinite(v) and 0 <= v <= 1 for v in p) or sum(p) > 1 + 1e-4:
        return f"bad probabilities {p}"
    return None


def _page_words(words: str) -> str:
    """What the page's plain sentence for `words` says after the file name (the app never shows the technical
    reason; inat.app.views.PHOTO_PROBLEMS maps one to the other)."""
    from ..app.views import PHOTO_PROBLEMS
    sentence = dict(PHOTO_PROBLEMS).get(words, "")
    return sentence.split("{name}", 1)[-1].split(":")[0].strip() or words


def _judge(case: Case, got: str, message: str, seconds: float, path: str, image=None) -> Outcome:
    status = got
    if got == "ok" and case.expect == "error":
        status, message = "FAIL", f"accepted, expected an error ({case.words or 'any'})"
    elif got == "error" and case.expect == "ok":
        status, message = "FAIL", f"refused a valid image: {message}"
    elif got == "error" and case.words and case.words not in message and \
            not (path == "app" and _page_words(case.words) in message):
        status, message = "FAIL", f"error without {case.words!r}: {message}"
    if status == "ok" and case.upright and image is not None:
        wrong = check_upright(image, case.upright)
        if wrong:
            status, message = "FAIL", f"not upright: {wrong}"
    if status != "FAIL" and seconds > SECONDS_LIMIT:
        status, message = "FAIL", f"took {seconds:.1f} s (limit {SECONDS_LIMIT} s)"
    return Outcome(case.kind, path, status, message, seconds)


def run_predictor(predictor, case: Case, file: Path) -> Outcome:
    """The case as a file given to `Predictor.predict` (what `python -m inat predict` does)."""
    t0 = time.perf_counter()
    image = None
    try:
        r = predictor.predict([str(file)], k=3)[0]
        if case.upright and r.error is None:
            # The pixels the predictor classified: the same call it makes, with its draft size.
            image = open_image(str(file), draft_size=predictor.engine.draft)
    except Exception as e:
        return Outcome(case.kind, "predictor", "FAIL", f"{e.__class__.__name__}: {str(e)[:200]}",
                       time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    if r.error is not None:
        if not one_line(r.error):
            return Outcome(case.kind, "predictor", "FAIL", f"not a one-line error: {r.error!r}"[:300], seconds)
        return _judge(case, "error", r.error, seconds, "predictor")
    bad = _finite_probabilities([p.probability for p in r.predictions])
    if bad:
        return Outcome(case.kind, "predictor", "FAIL", bad, seconds)
    return _judge(case, "ok", "", seconds, "predictor", image)


def run_app(app, case: Case, file: Path) -> Outcome:
    """The case as an upload: the photo component's preprocess (Gradio's step) then the identify handler."""
    import gradio as gr
    from gradio.data_classes import FileData
    photo, identify, model = app
    t0 = time.perf_counter()
    image = None
    try:
        image = photo.preprocess(FileData(path=str(file), orig_name=case.name))
        label, card, raw = identify(image, model)
    except gr.Error as e:
        seconds = time.perf_counter() - t0
        msg = e.message if isinstance(e.message, str) else str(e)
        if not (one_line(msg) and msg.rstrip().endswith(".")):
            return Outcome(case.kind, "app", "FAIL", f"not a one-sentence gr.Error: {msg!r}"[:300], seconds)
        return _judge(case, "error", msg, seconds, "app")
    except Exception as e:
        return Outcome(case.kind, "app", "FAIL", f"{e.__class__.__name__}: {str(e)[:200]}", time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    bad = (_finite_probabilities([p["probability"] for p in raw.get("predictions") or []])
           or (None if isinstance(card, str) and card else "empty card"))
    if bad:
        return Outcome(case.kind, "app", "FAIL", bad, seconds)
    return _judge(case, "ok", "", seconds, "app", image)


def run_case(case: Case, predictor, app, folder: Path) -> list[Outcome]:
    """Both paths for one case; a hang past HANG_ABORT seconds dumps the stacks and ends the process."""
    file = Path(folder) / case.name
    file.write_bytes(case.data)
    faulthandler.dump_traceback_later(HANG_ABORT, exit=True)
    try:
        out = [run_predictor(predictor, case, file)]
        if app is not None:
            out.append(run_app(app, case, file))
    finally:
        faulthandler.cancel_dump_traceback_later()
        file.unlink(missing_ok=True)
    return out


def make_rig(folder: Path):
    """(predictor, app) on a tiny 32-px bundle `tiny`, the default model of a weights folder in `folder`.

    Sets INAT_WEIGHTS; the caller restores the environment.
    """
    from ..app import build_app  # gradio takes seconds to import: only when a rig is built
    from ..identify.predict import Predictor
    weights = Path(folder) / "weights"
    make_bundle(weights / "tiny", default=True)
    os.environ["INAT_WEIGHTS"] = str(weights)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    photo, identify = app_identify(build_app(runs=[]))
    return Predictor(str(weights / "tiny")), (photo, identify, "tiny")


def failures(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.path} {o.case}: {o.message}" for o in outcomes if o.status == "FAIL"]


# -----------------------------------------------------------------------------------------------
# Peak memory on bombs, in a fresh process (ru_maxrss only grows, so the baseline must be clean).

def bomb_memory(bundle: Path, cases: list[Case]) -> dict:
    """{"baseline_mb", "growth_mb", "results"}: peak RSS growth of a process that loads the tiny
    predictor, warms it up on a real photo, then feeds it every case (predictor and open_image)."""
    import pickle
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        blob = Path(tmp) / "cases.pickle"  # our own cases, written and read by this function only
        blob.write_bytes(pickle.dumps([(c.name, c.data) for c in cases]))
        code = (
            "import json, resource, pickle; from pathlib import Path\n"
            "from inat.identify.predict import Predictor; from inat.core.images import open_image, ImageError\n"
            f"p = Predictor({str(bundle)!r})\n"
            f"p.predict([{sample_photo('lion.jpg')!r}])\n"
            "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
            f"base = rss(); out = []; folder = Path({tmp!r})\n"
            f"for name, data in pickle.loads(Path({str(blob)!r}).read_bytes()):\n"
            "    f = folder / name; f.write_bytes(data)\n"
            "    r = p.predict([str(f)])[0]\n"
            "    try: open_image(str(f)); app = None\n"
            "    except ImageError as e: app = str(e)\n"
            "    out.append([name, r.error, app, round(rss() - base, 1)])\n"
            "print(json.dumps({'baseline_mb': round(base, 1), 'growth_mb': round(rss() - base, 1), 'results': out}))\n")
        # Started in ROOT, the child imports this same `inat` (python -c puts its working folder first on the path).
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
