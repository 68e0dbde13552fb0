"""The Gradio app: Identify, Compare architectures, About the model.

`build_demo()` builds the UI from the library; `launch(demo)` runs it (`demo.py` does both).
The functions above the UI section return plain data (dicts, lists, Markdown strings) and are
tested without a browser; the event handlers only adapt them to components and turn failures into
one-sentence `gr.Error`s, so a bad upload never takes the server down.

    >>> from inat.app import ModelCache, identify_photo, card_markdown
    >>> result = identify_photo(ModelCache().get("starter"), "lion.jpg")
    >>> result["lineage"][-1]             # kingdom → species, probabilities summed at each rank
    {'rank': 'species', 'name': 'Panthera leo', 'probability': 0.89...}
    >>> print(card_markdown(result))      # what the Identify tab shows beside the top-5 label
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .bundle import (JSON_NAME, STARTER, WEIGHTS_NAME, BundleError, default_model_name, list_bundles, resolve_bundle,
                     weights_dir)
from .images import ImageError, open_image
from .predict import ANCESTOR_THRESHOLD
from .taxonomy import rank_probabilities

log = logging.getLogger(__name__)

# OpenMP threads that spin while waiting make CPU inference 10-25× slower as soon as anything else
# runs on the cores (a second request, another process on a shared 2-vCPU host; measured 5 s vs 0.2 s
# per photo here). Passive waiting must be chosen before torch loads OpenMP; the app imports torch
# only when the first model is loaded, so setting it here is in time. An explicit value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TOP_K = 5                    # species shown by the label
MAX_FILE_SIZE = "20mb"       # uploads above this are refused by Gradio before they reach us
CONCURRENCY_LIMIT = 2        # CPU inference: more parallel requests only slow each other down
QUEUE_SIZE = 64              # waiting requests beyond this are turned away at once (20 failed 218 of
                             # 262 requests from 50 clients; 64 served all: benchmarks/robustness.py)
MAX_LOADED_MODELS = 3        # predictors kept in memory; the least recently used one is dropped
DELETE_CACHE = (3600, 3600)  # every hour, delete uploads older than an hour from Gradio's temp dir
EXAMPLES = ("lion.jpg", "cheetah.jpg", "tower.jpg")  # shipped with gradio (gradio.media); tower: not an organism
_OUR_EXAMPLES_CACHES: set[str] = set()  # GRADIO_EXAMPLES_CACHE values we set; any other one is the user's


# -----------------------------------------------------------------------------------------------
# Models: the picker's choices and one shared Predictor per model.

def _fmt_pct(p: float | None) -> str:
    if p is None:
        return "—"
    p = 100 * float(p)
    return "<0.1 %" if 0 < p < 0.05 else f"{p:.1f} %"


def model_choices() -> list[tuple[str, str]]:
    """(label, value) for the model picker: the built-in starter, then every bundle in the weights folder.

    The value is the model's name (`starter` or the bundle's folder name); the label adds the
    architecture, the number of classes and the measured validation top-1 when known.
    """
    from .cli import model_rows
    try:
        rows = model_rows()
    except OSError:  # the starter's taxonomy file is missing: offer the bundles alone
        rows = [{"name": b.path.name, "builtin": False, "arch": b.arch, "classes": len(b.classes),
                 "val_top1": b.metrics.get("val_top1")} for b in list_bundles()]
    out = []
    for r in rows:
        acc = r.get("val_top1")
        what = "built-in, ImageNet organisms" if r["builtin"] else r["arch"]
        label = f"{r['name']} — {what}, {r['classes']} classes"
        out.append((label + (f", top-1 {_fmt_pct(acc)}" if acc is not None else ""), r["name"]))
    return out


def default_model(choices: list[tuple[str, str]]) -> str | None:
    """The picker's initial value: the default bundle (or the starter) when it is among the choices."""
    values = [v for _, v in choices]
    try:
        name = default_model_name()
    except Exception:
        name = STARTER
    name = STARTER if name == STARTER else Path(name).name
    return name if name in values else (values[0] if values else None)


def load_model_bundle(name: str):
    """The Bundle (weights not loaded) for a picker value: `starter` or a folder in the weights folder.

    Only names are accepted, never paths, so a request cannot make the server open arbitrary files.
    """
    if name == STARTER:
        return resolve_bundle(STARTER)
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise BundleError(f"{name!r}: not a model name")
    return resolve_bundle(str(weights_dir() / name))


class ModelCache:
    """One Predictor per model name, built on first use and shared by every request.

    Building takes seconds, so two requests for a model that is not loaded yet wait for one build
    instead of starting two; requests for other, loaded models are not held up meanwhile.
    Inference itself needs no lock (eval mode, no state changes).
    """

    def __init__(self, max_models: int = MAX_LOADED_MODELS):
        self.max_models = max_models
        self._lock = threading.Lock()
        self._models: OrderedDict[str, object] = OrderedDict()
        self._building: dict[str, threading.Lock] = {}

    def get(self, name: str):
        """The Predictor for `name`; raises BundleError/OSError/... when the model cannot be loaded."""
        with self._lock:
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
            build_lock = self._building.setdefault(name, threading.Lock())
        with build_lock:
            with self._lock:
                if name in self._models:
                    return self._models[name]
            from .predict import Predictor
            t0 = time.perf_counter()
            predictor = Predictor(load_model_bundle(name))
            log.info("loaded model %s in %.1f s", name, time.perf_counter() - t0)
            with self._lock:
                self._models[name] = predictor
                while len(self._models) > self.max_models:
                    self._models.popitem(last=False)
            return predictor

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)


# -----------------------------------------------------------------------------------------------
# Identify: plain data, then its Label and Markdown views.

def identify_photo(predictor, image, k: int = TOP_K) -> dict:
    """The predictor's result record for one photo, plus what the taxonomy card needs.

    `image` is a path, bytes or PIL image (opened with `open_image`, so ImageError for bad ones).
    Adds `lineage`: [{rank, name, probability}] kingdom → species for the top class, each summed over
    all classes below it, and `in_scope_probability`: the summed probability of the model's classes
    (None for models without a notion of scope).
    """
    pil = open_image(image)
    probs = predictor.probabilities([pil])[0]
    result = predictor.describe(probs, "photo", k)
    class_probs = probs[predictor.index]
    taxa = predictor.bundle.classes
    top = taxa[int(np.argmax(class_probs))]
    result["lineage"] = [{"rank": r, "name": n, "probability": float(p)}
                         for r, n, p in rank_probabilities(taxa, class_probs, top)]
    result["in_scope_probability"] = float(class_probs.sum()) if predictor.bundle.has_scope else None
    return result


def display_name(pred: dict) -> str:
    """'Common name (Scientific name)', as Taxon.label spells it."""
    common, sci = pred.get("common_name"), pred["scientific_name"]
    return f"{common} ({sci})" if common and common != sci else sci


NOT_AN_ORGANISM = "This does not look like an organism I know"


def label_value(result: dict) -> dict | str:
    """The gr.Label value: {'Common name (Scientific name)': probability} for the top classes, or
    the sentence NOT_AN_ORGANISM when the model says the photo is out of its scope (so the big
    heading never names a species the model does not believe in)."""
    if result.get("in_scope") is False:
        return NOT_AN_ORGANISM
    return {display_name(p): float(p["probability"]) for p in result["predictions"]}


def _md(text) -> str:
    """Escape Markdown/HTML punctuation in names that come from bundle files."""
    out = str(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _code(text) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def _taxon_md(rank: str, name: str) -> str:
    # Genus and species names are italic, as in iNaturalist.
    return f"*{_md(name)}*" if rank in ("genus", "species") else _md(name)


def ancestor_sentence(result: dict) -> str | None:
    """iNat's "We're pretty sure this is in genus X" when the top class alone is below the threshold
    but a taxon above it reaches it; a plain "not sure" when none does; None when the top class
    is itself confident."""
    preds = result["predictions"]
    if not preds or preds[0]["probability"] >= ANCESTOR_THRESHOLD:
        return None
    a = result.get("ancestor")
    if not a:
        return (f"I'm not sure: no species or group above it reaches {ANCESTOR_THRESHOLD:.0%} "
                f"of the probability.")
    where = f"{_taxon_md(a['rank'], a['name'])}" if a["rank"] == "species" else \
        f"in {a['rank']} {_taxon_md(a['rank'], a['name'])}"
    return f"We're pretty sure this is {where} ({_fmt_pct(a['probability'])})."


def card_markdown(result: dict) -> str:
    """The taxonomy card: the top class with its probability, common and scientific name, then
    kingdom → species with each rank's rolled-up probability, and the "pretty sure" line."""
    preds = result["predictions"]
    if not preds:
        return "No prediction."
    if result.get("in_scope") is False:
        mass = result.get("in_scope_probability")
        guesses = ", ".join(f"{_md(display_name(p))} {_fmt_pct(p['probability'])}" for p in preds[:3])
        lines = [f"### {NOT_AN_ORGANISM}.", ""]
        if mass is not None:
            lines.append(f"The plants, animals and fungi this model knows share only {_fmt_pct(mass)} "
                         f"of its probability; the rest goes to objects and scenes.")
        lines += ["", f"Try a closer photo of a single organism. Unlikely guesses: {guesses}."]
        return "\n".join(lines)

    top = preds[0]
    common = top.get("common_name")
    heading = _md(common) if common else _taxon_md(top["rank"], top["scientific_name"])
    lines = [f"### {_fmt_pct(top['probability'])} · {heading}",
             f"{_taxon_md(top['rank'], top['scientific_name'])} · {top['rank']}", ""]
    sentence = ancestor_sentence(result)
    if sentence:
        lines += [f"**{sentence}**", ""]
    lineage = result.get("lineage") or []
    if lineage:
        lines += ["| Rank | Taxon | Probability |", "|---|---|---:|"]
        lines += [f"| {r['rank'].capitalize()} | {_taxon_md(r['rank'], r['name'])} | {_fmt_pct(r['probability'])} |"
                  for r in lineage]
    return "\n".join(lines)


# -----------------------------------------------------------------------------------------------
# Compare: runs read from disk, figures from inat.plots.

_EXPORT_DIR: Path | None = None
_PNGS: OrderedDict[str, str] = OrderedDict()  # drawing inputs → PNG path, so page views do not redraw
_PNGS_LOCK = threading.Lock()


def _export_folder() -> Path:
    """A fresh sub-folder of this process's temp folder (exports older than an hour are removed)."""
    global _EXPORT_DIR
    if _EXPORT_DIR is None or not _EXPORT_DIR.is_dir():
        _EXPORT_DIR = Path(tempfile.mkdtemp(prefix="inat-app-plots-"))
    cutoff = time.time() - 3600
    for old in _EXPORT_DIR.glob("*/*.png"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            try:
                old.parent.rmdir()
            except OSError:
                pass
    return Path(tempfile.mkdtemp(dir=_EXPORT_DIR))


def compare_png(runs: list[dict], metric: str, names=None) -> str:
    """Path of a PNG of `inat.plots.plot_runs(runs, metric, names)`, for showing and downloading.

    Drawn once per distinct input (runs, metric, selection); each file sits in its own folder,
    named `inat-runs-METRIC.png`, so two users never overwrite each other's download.
    """
    from .plots import plot_runs, save_png
    key = hashlib.sha1(json.dumps([metric, sorted(names) if names is not None else None, runs],
                                  sort_keys=True, default=str).encode()).hexdigest()
    with _PNGS_LOCK:
        path = _PNGS.get(key)
    if path and Path(path).is_file():
        return path
    path = str(save_png(plot_runs(runs, metric, names), _export_folder() / f"inat-runs-{metric}.png"))
    with _PNGS_LOCK:
        _PNGS[key] = path
        while len(_PNGS) > 64:
            _PNGS.popitem(last=False)
    return path


def table_rows(runs: list[dict]) -> list[list]:
    """`inat.plots.runs_table` for display: unknown values as a dash."""
    from .plots import runs_table
    return [["—" if v is None else v for v in row] for row in runs_table(runs)]


def thesis_markdown() -> str:
    from .plots import THESIS_CAPTION, THESIS_HEADERS, markdown_table, thesis_table
    return (f"#### {THESIS_CAPTION}\n\nFinal validation results as the thesis reports them. We have "
            f"only these numbers, not the runs, so they are not drawn as curves.\n\n"
            + markdown_table(THESIS_HEADERS, thesis_table()))


# -----------------------------------------------------------------------------------------------
# About: what a model is, in Markdown.

def _metric_line(key: str, value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            any(w in key for w in ("top", "acc", "recall", "precision", "rejection")) and 0 <= value <= 1:
        return f"- {_code(key)}: **{_fmt_pct(value)}**"
    return f"- {_code(key)}: {_md(value)}"


def about_markdown(name: str | None) -> str:
    """What the model `name` is: architecture, classes (count and a few), scope, training,
    measured accuracy, provenance; then how to add your own weights."""
    parts = []
    try:
        b = load_model_bundle(name) if name else None
    except Exception as e:
        b = None
        parts.append(f"Model **{_md(name)}** cannot be read: {_md(str(e).splitlines()[0])}")
    if b is not None:
        n = len(b.classes)
        step = max(1, n // 8)
        few = ", ".join(_md(t.label) for t in b.classes[::step][:8])
        what = f"the {_code(b.arch)} architecture"
        if b.run.get("init"):
            what += f", initialised from {_md(b.run['init'])}"
        if b.run.get("dataset"):
            what += f", trained on {_md(b.run['dataset'])}"
        size = b.run.get("img_size") or b.preprocess.input_size
        parts += [f"### {_md(b.name)}: {_code(b.arch)}",
                  f"**What it is:** {what}; it sees photos at {size}×{size} pixels.", "",
                  f"**Classes:** {n} — for example {few}{', …' if n > 8 else ''}.", ""]
        if b.has_scope:
            parts += [f"**Scope:** the model also knows {b.num_outputs - n} other things (objects, scenes). "
                      f"When its {n} organism classes share less than {_fmt_pct(b.in_scope_threshold)} of "
                      f"the probability, the app says the photo does not look like an organism it knows.", ""]
        run = {k: v for k, v in b.run.items()
               if k in ("epochs", "best_epoch", "device", "command") and v not in (None, "", [], {})}
        if run:
            parts += ["**Training run:**"] + [f"- {_code(k)}: {_md(v)}" for k, v in run.items()] + [""]
        parts.append("**Measured accuracy:**")
        scalars = {k: v for k, v in b.metrics.items() if not isinstance(v, (dict, list))}
        parts += [_metric_line(k, v) for k, v in scalars.items()] or \
                 ["- not measured yet (`python -m inat evaluate` records it in the bundle)"]
        parts.append("")
        if b.provenance:
            parts += ["**Provenance:**"] + [f"- {_code(k)}: {_md(v)}" for k, v in b.provenance.items()]
            parts.append("")
    parts += [
        "### Add your own weights",
        f"The picker lists the built-in `starter` and every model bundle (a folder with `bundle.json` and "
        f"`model.safetensors`) in `{_md(weights_dir().name)}/`, or in the folder named by the `INAT_WEIGHTS` "
        f"environment variable. Restart the app after adding one.",
        "",
        "- **Train** on an iNat 2021 folder: `python -m inat train --help` — the run is saved as a bundle "
        "in `weights/NAME`.",
        "- **Import the thesis checkpoint** (a pickled `torch.save` file; unpickling runs code from the file, "
        "so only do it for a file you trust):  \n"
        "  `python -m inat import best_model.pth --categories categories.tsv --trust-pickle --out weights/thesis_v2s`",
        "- **Check** what is installed: `python -m inat models`.",
    ]
    return "\n".join(parts)


# -----------------------------------------------------------------------------------------------
# The UI.

def examples_cache_dir(model: str | None) -> Path:
    """Where Gradio caches the examples' results: a folder keyed by the default model's files, so a
    retrained or newly default model never shows results cached for another one."""
    stamp: list = []
    try:
        if model == STARTER:
            from .starter import TAXONOMY_TSV
            files = [TAXONOMY_TSV]
        else:
            folder = load_model_bundle(model).path
            files = [folder / JSON_NAME, folder / WEIGHTS_NAME]
        stamp = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]
    except Exception:
        pass
    key = hashlib.sha1(repr((model, stamp, EXAMPLES)).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "inat-examples-cache" / key


def _photo_input_class():
    import gradio as gr

    class PhotoInput(gr.Image):
        """gr.Image whose uploads are opened by `inat.images.open_image`: pixel limits are checked
        before decoding (a decompression bomb never reaches memory), EXIF orientation is applied,
        alpha/16-bit/CMYK become RGB, and an unusable file raises a one-sentence gr.Error."""

        is_template = True  # the browser renders it with gr.Image's own component

        def preprocess(self, payload):
            if payload is None:
                return None
            # The file name is the uploader's: shortened and HTML-escaped, as Gradio shows errors as HTML.
            name = html.escape(Path(payload.orig_name or payload.path or "photo").name[:80], quote=False)
            source = payload.path
            if source is None and payload.url and payload.url.startswith("data:"):
                try:
                    source = base64.b64decode(payload.url.split(",", 1)[1], validate=False)
                except (ValueError, IndexError):
                    raise gr.Error(f"{name} is not usable: the data URL is not valid base64.") from None
            if source is None:
                raise gr.Error("No photo received.")
            try:
                return open_image(source)
            except ImageError as e:
                msg = str(e)
                for prefix in ((f"{Path(source).name}: ",) if isinstance(source, str) else ()) + ("image: ",):
                    msg = msg.removeprefix(prefix)
                raise gr.Error(f"{name} is not usable: {html.escape(msg, quote=False)}.",
                               print_exception=False) from None

    return PhotoInput


def build_demo(models: ModelCache | None = None, runs: list[dict] | None = None):
    """The app as a queued gr.Blocks. `models` shares predictors (a new cache by default); `runs`
    replaces `inat.runs.list_runs()` for the Compare tab (tests pass their own). Loads no model."""
    import gradio as gr
    from gradio.media import get_image

    from .plots import TABLE_HEADERS
    from .runs import list_runs

    models = models or ModelCache()
    choices = model_choices()
    default = default_model(choices)
    values = {v for _, v in choices}
    read_runs = (lambda: runs) if runs is not None else list_runs

    def identify(image, model: str | None = default):
        if image is None:
            raise gr.Error("Upload a photo first, or pick one of the examples.")
        if model not in values:
            raise gr.Error(f"Unknown model {html.escape(repr(model)[:80], quote=False)}; choose one of: "
                           f"{', '.join(sorted(values)) or 'none installed'}.", print_exception=False)
        try:
            predictor = models.get(model)
        except Exception as e:
            log.exception("model %s failed to load", model)
            why = str(e).splitlines()[0] if str(e) else e.__class__.__name__
            raise gr.Error(f"Model {model} could not be loaded: {html.escape(why, quote=False)}.",
                           print_exception=False) from None
        try:
            result = identify_photo(predictor, image)
        except ImageError as e:
            raise gr.Error(f"This photo is not usable: {html.escape(str(e), quote=False)}.",
                           print_exception=False) from None
        except Exception:
            log.exception("identifying a photo with %s failed", model)
            raise gr.Error("Something went wrong while identifying this photo; the details are in the "
                           "server log.", print_exception=False) from None
        return label_value(result), card_markdown(result), result

    def identify_again(image, model):
        # Switching models re-identifies the photo on screen; with no photo there is nothing to do.
        return gr.skip() if image is None else identify(image, model)

    def redraw(metric, names):
        all_runs = read_runs()
        png = compare_png(all_runs, metric, [n for n in names or [] if n in {r["name"] for r in all_runs}])
        return png, png

    def load_runs(metric, names, select_all: bool):
        """Re-read the runs (training may have added some); keep the user's selection unless asked."""
        all_runs = read_runs()
        known = [r["name"] for r in all_runs]
        keep = [n for n in known if n in (names or [])]
        names = known if select_all or not keep else keep
        png = compare_png(all_runs, metric, names)
        return gr.CheckboxGroup(choices=known, value=names), png, png, table_rows(all_runs)

    if os.environ.get("GRADIO_EXAMPLES_CACHE") in _OUR_EXAMPLES_CACHES | {None}:
        cache = str(examples_cache_dir(default))  # gr.Examples reads the variable when built, below
        _OUR_EXAMPLES_CACHES.add(cache)
        os.environ["GRADIO_EXAMPLES_CACHE"] = cache

    with gr.Blocks(title="inat: what species is this?", analytics_enabled=False,
                   delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# What species is this?\nIdentify plants, animals and fungi in a photo, compare the "
                    "architectures trained for it, and see what the model behind it is.")
        with gr.Tabs():
            with gr.Tab("Identify", id="identify"):
                with gr.Row():
                    with gr.Column(scale=1):
                        photo = _photo_input_class()(type="pil", sources=["upload", "webcam", "clipboard"],
                                                     label="Photo", height=360)
                        model = gr.Dropdown(choices=choices, value=default, label="Model", elem_id="model-picker",
                                            info="The built-in starter and every bundle in weights/.")
                        button = gr.Button("Identify", variant="primary")
                    with gr.Column(scale=1):
                        label = gr.Label(num_top_classes=TOP_K, label="Top 5", elem_id="top5")
                        card = gr.Markdown("Upload a photo to see its taxonomy.", label="Taxonomy card",
                                           elem_id="taxonomy-card", container=True, padding=True)
                        with gr.Accordion("Raw result (as python -m inat predict --json prints it)", open=False):
                            raw = gr.JSON(label="Result")
                gr.Examples(examples=[[get_image(f), default] for f in EXAMPLES], inputs=[photo, model],
                            outputs=[label, card, raw], fn=identify, cache_examples=default is not None,
                            cache_mode="lazy", visible_columns=[0],
                            label="Examples: a lion, a cheetah, and a tower (not an organism). "
                                  "Results are cached for the default model.")
                gr.on([button.click, photo.upload], identify, inputs=[photo, model], outputs=[label, card, raw],
                      api_name="identify", api_description="Identify the species in a photo: "
                      "top-5 label, taxonomy card (Markdown) and the raw result record.")
                model.input(identify_again, [photo, model], [label, card, raw], api_visibility="private")

            with gr.Tab("Compare architectures", id="compare") as compare_tab:
                with gr.Row():
                    metric = gr.Radio(["loss", "top-1", "top-5"], value="top-1", label="Metric", scale=1)
                    selected = gr.CheckboxGroup([], label="Runs", scale=3)
                    reload = gr.Button("Reload runs", scale=0, min_width=120)
                # The figure is drawn (and runs are read) when the tab opens: no matplotlib at startup.
                plot = gr.Image(label="Training (dashed) and validation (solid) per epoch", show_label=False,
                                type="filepath", format="png", interactive=False, elem_id="compare-plot",
                                height=480, buttons=["fullscreen"])
                download = gr.DownloadButton("Download PNG", size="sm")
                gr.Markdown("#### Our runs")
                table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=False,
                                     label="Recorded runs (weights/ and runs/)", elem_id="runs-table")
                gr.Markdown(thesis_markdown(), elem_id="thesis-table")
                outputs = [selected, plot, download, table]
                compare_tab.select(lambda m, n: load_runs(m, n, False), [metric, selected], outputs,
                                   api_visibility="private")
                reload.click(lambda m, n: load_runs(m, n, True), [metric, selected], outputs,
                             api_visibility="private")
                metric.change(redraw, [metric, selected], [plot, download], api_visibility="private")
                selected.input(redraw, [metric, selected], [plot, download], api_visibility="private")

            with gr.Tab("About the model", id="about"):
                # Filled when the page loads: describing the starter imports torch, which would slow startup.
                about = gr.Markdown("Loading the model description…")
                model.change(about_markdown, [model], [about], api_visibility="private")
        demo.load(about_markdown, [model], [about], api_visibility="private")

        demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    demo.inat_models = models        # the predictor cache, for launch() to warm up
    demo.inat_default_model = default
    return demo


def launch(demo, argv=None, **overrides):
    """Parse `--share`, `--port`, `--host` from `argv` (default: sys.argv) and launch `demo`.

    The default model is loaded in the background, so the page is up before the model is.
    `overrides` go to `demo.launch` (tests pass `prevent_thread_lock=True`, `quiet=True`).
    """
    parser = argparse.ArgumentParser(description="The species identification app (Gradio).")
    parser.add_argument("--share", action="store_true",
                        help="also print a public *.gradio.live link (needs outbound internet)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: $GRADIO_SERVER_PORT, else the first free from 7860)")
    parser.add_argument("--host", default=None,
                        help="address to bind (default: $GRADIO_SERVER_NAME, else 127.0.0.1; 0.0.0.0 for your network)")
    args = parser.parse_args(argv)

    models, default = getattr(demo, "inat_models", None), getattr(demo, "inat_default_model", None)
    if models is not None and default is not None:
        def warm():
            try:
                models.get(default)
            except Exception as e:  # the first request reports it to the user
                log.warning("default model %s not loaded: %s", default, e)
        threading.Thread(target=warm, name="inat-warm-model", daemon=True).start()

    options = {"share": args.share or None, "server_port": args.port, "server_name": args.host,
               "max_file_size": MAX_FILE_SIZE, "footer_links": ["api", "gradio"]}
    return demo.launch(**{**options, **overrides})
