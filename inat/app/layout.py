"""The page: components, their events and the handlers that adapt the views to them; and launch.

    app = build_app()          # loads no model; `app.demo` is the gr.Blocks
    app.launch()               # parses --share/--port/--host, loads the default model in the background

Handlers only call the predictor and the views (`views` for Identify, `observations` for Observations,
`about` for the picker and About, `compare` for Compare), and turn failures into one plain sentence
(`gr.Error`) while the log keeps the technical detail, so a bad upload never takes the server down.
"""
from __future__ import annotations

import argparse
import html
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import first_line
from ..models.registry import default_model, list_bundles, model_rows, resolve, weights_dir
from ..training.plots import METRICS
from ..training.runs import list_runs
from . import observations
from ..naturalist.experts import EXPERTS
from .about import (about_markdown, model_choices, more_experts_markdown, naming_options, reliability,
                    summary_markdown, technical_markdown)
from .compare import (compare_intro, curve_note, curve_rows, epoch_axis, is_chance, run_choices, runs_markdown,
                      thesis_markdown)
from .figures import reliability_png
from .photo import UnusablePhoto, photo_input_class
from .predictors import ModelCache
from .views import DROP_PHOTO, PHOTO_TIPS, PLACEHOLDER, card_markdown, label_value, photo_problem, problem_card
from ..core.paths import ASSETS

log = logging.getLogger("inat")

TOP_K = 5                    # species shown by the label
MAX_FILE_SIZE = "20mb"       # uploads above this are refused by Gradio before they reach us
CONCURRENCY_LIMIT = 2        # CPU inference: more parallel requests only slow each other down
QUEUE_SIZE = 64              # waiting requests beyond this are turned away at once (20 failed 218 of
                             # 262 requests from 50 clients; 64 served all: benchmarks/robustness.py)
DELETE_CACHE = (3600, 3600)  # every hour, delete uploads older than an hour from Gradio's temp dir
HERE = Path(__file__).resolve().parent
EXAMPLE_DIR = ASSETS / "examples"
# Example photo → its accessible name. lion, cheetah and tower ship with gradio (gradio.media); the daisy
# is ours (assets/examples/README.md); tower: not an organism.
EXAMPLES = {"lion.jpg": "Example: a lion", "cheetah.jpg": "Example: a cheetah",
            "daisy.jpg": "Example: oxeye daisies, a plant", "tower.jpg": "Example: a tower, not an organism"}
# Client-side only: bring the result into view once it is there (page.js).
SHOW_RESULT_JS = "() => { if (window.inatShowResult) window.inatShowResult(); }"
# Client-side only: a photo the user gave replaces the example, whose thumbnail stops being highlighted (page.js).
CLEAR_EXAMPLE_JS = "() => { if (window.inatClearExample) window.inatClearExample(); }"
# A colour per run, by its position in the run list (so a run keeps its colour when others are hidden):
# matplotlib's tab10 with its grey replaced, as grey is the chance line's.
RUN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#393b79"]
CHANCE_COLOUR = "#6b6b6b"


def example_path(name: str) -> str:
    """The file of an example photo: ours in assets/examples, else gradio's sample of that name."""
    ours = EXAMPLE_DIR / name
    if ours.is_file():
        return str(ours)
    from gradio.media import get_image  # gradio's sample photos: with gradio
    return str(get_image(name))


def run_colour_css() -> str:
    """CSS giving each run's checkbox its line's colour: the checkboxes are the plot's legend (page.css)."""
    n = len(RUN_COLOURS)
    return "\n".join(f"#compare-runs label:nth-of-type({n}n+{i + 1}) {{ --run-colour: {c}; }}"
                     for i, c in enumerate(RUN_COLOURS))


def page_head() -> str:
    """What the page adds to <head>: the example names and page.js."""
    names = json.dumps(list(EXAMPLES.values()))
    return f"<script>window.inatExampleNames = {names};</script>\n<script>{(HERE / 'page.js').read_text()}</script>"


@dataclass
class App:
    """The built page and what launching it needs: the shared predictors and the default model's name."""

    demo: object           # gr.Blocks
    models: ModelCache
    default: str | None

    def launch(self, argv=None, **overrides):
        """Parse `--share`, `--port`, `--host` from `argv` (default: sys.argv) and serve the page.

        The default model is loaded in the background, so the page is up before the model is.
        `overrides` go to `gr.Blocks.launch` (tests pass `prevent_thread_lock=True`, `quiet=True`).
        """
        parser = argparse.ArgumentParser(description="The species identification app (Gradio).")
        parser.add_argument("--share", action="store_true",
                            help="also print a public *.gradio.live link (needs outbound internet)")
        parser.add_argument("--port", type=int, default=None,
                            help="port to serve on (default: $GRADIO_SERVER_PORT, else the first free from 7860)")
        parser.add_argument("--host", default=None, help="address to bind (default: $GRADIO_SERVER_NAME, else "
                                                         "127.0.0.1; 0.0.0.0 for your network)")
        args = parser.parse_args(argv)
        # OpenMP threads that spin while waiting make CPU inference 10-25x slower as soon as anything else
        # runs on the cores (measured 5 s vs 0.2 s a photo on a shared 2-vCPU host). It must be chosen
        # before torch loads OpenMP, which happens with the first model: here is in time. Yours wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if self.default is not None:
            threading.Thread(target=self._warm, name="inat-warm-model", daemon=True).start()
        options = {"share": args.share or None, "server_port": args.port, "server_name": args.host,
                   "max_file_size": MAX_FILE_SIZE, "footer_links": ["api", "gradio"],
                   "css": (HERE / "page.css").read_text() + run_colour_css(), "head": page_head()}
        return self.demo.launch(**{**options, **overrides})

    def _warm(self):
        try:
            self.models.get(self.default)
        except Exception as e:  # the first request reports it to the user
            log.warning("default model %s not loaded: %s", self.default, first_line(e))


def _readable(name: str):
    """The model's Bundle (or Ensemble) for the picker and About, or None when it cannot be read."""
    try:
        return resolve(name, names_only=True)
    except Exception as e:
        log.warning("model %s cannot be described: %s", name, first_line(e))
        return None


def build_app(models: ModelCache | None = None, runs: list[dict] | None = None) -> App:
    """The page as a queued gr.Blocks. `models` shares predictors (a new cache by default); `runs` replaces
    `inat.training.runs.list_runs()` for the Compare tab (tests pass their own). Loads no model."""
    import gradio as gr  # keeps gradio out of start-up: only the app needs it

    models = models or ModelCache()
    try:
        rows = model_rows()
    except OSError:  # a built-in's files are missing: offer what can be read
        rows = []
    readable = {r["name"]: _readable(r["name"]) for r in rows}
    choices = model_choices(list(readable.items()))
    # What the card may suggest when an answer stops at a group, per model in use (the picker's models are
    # fixed until a restart, and so are these).
    options = {name: naming_options(name, m, readable, EXPERTS) for name, m in readable.items() if m is not None}
    more = more_experts_markdown(EXPERTS, readable)
    values = {v for _, v in choices}
    default = default_model()
    default = default if default in values else (choices[0][1] if choices else None)
    read_runs = (lambda: runs) if runs is not None else list_runs

    def predictor_for(model):
        """The shared Predictor of a listed model name; one sentence (gr.Error) for anything else."""
        if model not in values:
            raise gr.Error(f"Unknown model {html.escape(repr(model)[:80], quote=False)}; choose one of: "
                           f"{', '.join(sorted(values)) or 'none installed'}.", print_exception=False)
        try:
            return models.get(model)
        except Exception:
            log.exception("model %s failed to load", model)
            raise gr.Error(f"The {model} model could not be loaded: choose another model (whoever runs this "
                           f"app finds the reason in its log).", print_exception=False) from None

    def identify(image, model: str | None = default):
        if image is None:  # a plain sentence, no traceback in the server's console
            raise gr.Error("Upload a photo first, or pick one of the examples.", print_exception=False)
        if isinstance(image, UnusablePhoto):
            raise gr.Error(image.message, print_exception=False)
        predictor = predictor_for(model)
        size = getattr(image, "size", None)  # before predicting: decoding may reduce a lazily opened JPEG
        try:
            result = predictor.predict([image], k=TOP_K)[0]
        except Exception:
            log.exception("identifying a photo with %s failed", model)
            raise gr.Error("Something went wrong while identifying this photo: try again, or try another photo.",
                           print_exception=False) from None
        if result.error:
            log.info("photo refused by %s: %s", model, result.error)
            raise gr.Error(photo_problem("This photo", result.error), print_exception=False)
        result.image = "photo"  # never the server's temp path
        shared = predictor.tree.shared()  # ranks every class shares: never the page's claim
        return label_value(result), card_markdown(result, shared, size, options.get(model, ())), result.to_dict()

    def clear():
        return None, PLACEHOLDER, None

    def observe_files(files, model: str | None = default, progress=gr.Progress()):
        """Observations: the summary, the table, the map and the CSV file for a batch of photo files."""
        problem = observations.batch_problem(len(files or []))
        if problem:  # said where the summary goes: no toast and red "Error" pill on top of it, no traceback
            return problem, observations.TABLE_PLACEHOLDER, "", None
        predictor = predictor_for(model)
        paths = observations.upload_order(files)
        try:
            rows, thumbs, hints = observations.observe(
                predictor, paths, lambda done, total, what: progress((done, total), desc=what, unit="photos"),
                options.get(model, ()))
            csv_path = observations.write_observations_csv(rows)
        except Exception:
            log.exception("observations of %d photos with %s failed", len(paths), model)
            raise gr.Error("Something went wrong while identifying these photos: try again, or send fewer at a time.",
                           print_exception=False) from None
        return (observations.summary_markdown(rows), observations.table_html(rows, thumbs, hints),
                observations.map_html(rows), str(csv_path))

    def identify_shown(image, model):
        # A new photo, an example or another model: identify what is on screen; nothing shown, nothing to do.
        # A file that is no usable photo is explained in the card, where the result would have been.
        if isinstance(image, UnusablePhoto):
            return None, problem_card(image.message), None
        return clear() if image is None else identify(image, model)

    def describe(name):
        """About, the diagram, Technical details and the line under the picker, for one model."""
        m = _readable(name) if name else None
        error = None if m is not None else (f"{name}: no such model" if name else "no model chosen")
        rel = reliability(m) if m is not None else None
        png = reliability_png(*rel) if rel else None
        diagram = gr.Image(value=png, visible=png is not None,
                           alt_text=f"Reliability diagram of {name}: the probability it states against how "
                                    f"often it was right, before and after calibration" if png else None)
        return (about_markdown(m, more=more), diagram, technical_markdown(m, weights_dir().name, error),
                summary_markdown(m))

    def dataset_words() -> dict[str, str]:
        """{data set: words} from the bundles trained on it that declare their scope."""
        out = {}
        for b in list_bundles():
            if b.run.get("dataset") and (b.scope or {}).get("description"):
                out.setdefault(b.run["dataset"], b.scope["description"])
        return out

    def plot_value(all_runs, rows, metric):
        import pandas as pd  # keeps pandas out of start-up: only the Compare tab draws
        colours = {label: RUN_COLOURS[i % len(RUN_COLOURS)] for i, (label, _) in enumerate(run_choices(all_runs))}
        chance_lines = sorted({r["run"] for r in rows if is_chance(r["run"])})
        colours.update({name: CHANCE_COLOUR for name in chance_lines})
        rows, epochs = epoch_axis(rows)
        frame = pd.DataFrame(rows, columns=["epoch", "value", "run"])
        # The legend names only the chance line (the runs' checkboxes carry their colours: a legend of every run
        # was one row of long names, cut off); epochs are categories, so every tick is a whole epoch.
        return gr.LinePlot(value=frame, y_title=METRICS[metric][2], color_map=colours, colors_in_legend=chance_lines,
                           sort=epochs or None, x_lim=None)

    def redraw(metric, photos, names):
        all_runs = read_runs()
        names = [n for n in names or [] if n in {r["name"] for r in all_runs}]
        rows = curve_rows(all_runs, metric, photos, names)
        return plot_value(all_runs, rows, metric), curve_note(all_runs, metric, photos, names)

    def load_runs(metric, photos, names, select_all: bool):
        """Re-read the runs (training may have added some); keep the user's selection unless asked."""
        all_runs = read_runs()
        known = [r["name"] for r in all_runs]
        keep = [n for n in known if n in (names or [])]
        names = known if select_all or not keep else keep
        rows = curve_rows(all_runs, metric, photos, names)
        return (gr.CheckboxGroup(choices=run_choices(all_runs), value=names), plot_value(all_runs, rows, metric),
                curve_note(all_runs, metric, photos, names), runs_markdown(all_runs),
                compare_intro(all_runs, dataset_words()))

    with gr.Blocks(title="What species is this?", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# What species is this?\nName the plant, animal or fungus in a photo. *Compare* shows how "
                    "the models learnt; *About* says what each one knows and how often it is right.")
        with gr.Tabs():
            with gr.Tab("Identify", id="identify"):
                with gr.Row():
                    with gr.Column(scale=1, min_width=300):
                        photo = photo_input_class()(type="pil", sources=["upload", "webcam", "clipboard"],
                                                    label="Photo", height=360, elem_id="photo",
                                                    alt_text="The photo to identify", placeholder=DROP_PHOTO)
                        gr.Markdown(PHOTO_TIPS, elem_id="photo-tips")
                        # Examples set the photo only: the model stays the one the user picked.
                        gr.Examples(examples=[[example_path(f)] for f in EXAMPLES], inputs=[photo],
                                    label="Examples: a lion, a cheetah, oxeye daisies and a tower (not an organism)",
                                    elem_id="examples")
                        model = gr.Dropdown(choices=choices, value=default, label="Model", elem_id="model-picker")
                        summary = gr.Markdown(elem_id="model-summary")
                        button = gr.Button("Identify", variant="primary")
                    with gr.Column(scale=1, min_width=300):
                        card = gr.Markdown(PLACEHOLDER, elem_id="taxonomy-card", container=True, padding=True)
                        # /identify's first output; hidden, as the card lists the possibilities with the page's
                        # one rounding rule (the label would round on its own: "100%", "0%").
                        label = gr.Label(num_top_classes=TOP_K, label="Possible species", elem_id="top5",
                                         show_heading=False, visible=False)
                        # Shown once there is a result: empty, it was a box with nothing in it.
                        with gr.Accordion("Technical details", open=False, visible=False,
                                          elem_id="result-details") as details:
                            raw = gr.JSON(label="The full result as data, for developers (the command line's "
                                                "--json output)")
                outputs = [label, card, raw]
                raw.change(lambda r: gr.Accordion(visible=r is not None), [raw], [details], queue=False,
                           api_visibility="private")
                button.click(identify, [photo, model], outputs, api_name="identify",
                             api_description="Identify the species in a photo: top-5 label, result card "
                                             "(Markdown) and the raw result record.").then(
                    None, js=SHOW_RESULT_JS, api_visibility="private")
                # A new photo (upload, example, removal) or another model first clears what was shown, so a
                # failed upload or model never leaves the previous result on screen.
                photo.change(clear, None, outputs, queue=False, api_visibility="private").then(
                    identify_shown, [photo, model], outputs, api_visibility="private").then(
                    None, js=SHOW_RESULT_JS, api_visibility="private")
                # Upload, paste and webcam are the user's input (an example only changes the photo).
                photo.input(None, js=CLEAR_EXAMPLE_JS, queue=False, api_visibility="private")
                # "always_last": a second choice made while the first is still running is not dropped.
                model.input(clear, None, outputs, queue=False, api_visibility="private",
                            trigger_mode="always_last").then(
                    identify_shown, [photo, model], outputs, api_visibility="private")

            with gr.Tab("Observations", id="observations"):
                gr.Markdown(f"Identify a day's photos at once: a table of when, where and what, a map of where, and "
                            f"a CSV file with iNaturalist's column names. {observations.LIMIT_NOTE}\n\n"
                            f"{observations.PRIVACY_NOTE}", elem_id="obs-intro")
                obs_files = gr.File(file_count="multiple", label=observations.files_label(0), elem_id="obs-files",
                                    height=160)
                obs_model = gr.Markdown(observations.model_line(default), elem_id="obs-model")
                obs_button = gr.Button("Identify all", variant="primary", elem_id="obs-run")
                obs_summary = gr.Markdown(elem_id="obs-summary")
                obs_table = gr.HTML(observations.TABLE_PLACEHOLDER, elem_id="obs-table", js_on_load=None,
                                    min_height=60)
                obs_csv = gr.File(label="Download the table as CSV", interactive=False, elem_id="obs-csv")
                obs_map = gr.HTML(elem_id="obs-map", js_on_load=None)
                # One batch at a time: two would each take twice as long and hold twice the memory, while
                # the Identify tab keeps its own slots.
                obs_button.click(observe_files, [obs_files, model], [obs_summary, obs_table, obs_map, obs_csv],
                                 api_name="observations", concurrency_limit=1, show_progress_on=[obs_table],
                                 api_description=f"Identify up to {observations.MAX_PHOTOS} photo files: a summary "
                                                 f"(Markdown), the table and the map (HTML), and the CSV file with the "
                                                 f"columns of python -m inat predict --csv.")
                model.change(observations.model_line, [model], [obs_model], api_visibility="private")
                # The box lists a few files and scrolls: its label says how many were chosen.
                obs_files.change(lambda files: gr.File(label=observations.files_label(len(files or []))), [obs_files],
                                 [obs_files], queue=False, api_visibility="private")

            with gr.Tab("Compare", id="compare") as compare_tab:
                intro = gr.Markdown(elem_id="compare-intro")
                with gr.Row():
                    metric = gr.Radio([("loss", "loss"), ("top-1 accuracy", "top-1"), ("top-5 accuracy", "top-5")],
                                      value="top-1", label="Measure", scale=1)
                    photos = gr.Radio([("validation photos (never trained on)", "validation"),
                                       ("training photos", "training")], value="validation",
                                      label="Measured on", scale=1)
                selected = gr.CheckboxGroup([], label="Runs (each in the colour of its line; grey: guessing at random)",
                                            elem_id="compare-runs")
                # Drawn in the browser, so it fits the screen; filled (and runs read) when the tab opens. No label
                # over it: Gradio sizes the drawing to the block's height without it, and with it the axis title
                # and the legend under the plot were cut off.
                plot = gr.LinePlot(x="epoch", y="value", color="run", x_title="Epoch", y_title="Top-1 accuracy (%)",
                                   color_title="", height=400, elem_id="compare-plot", colors_in_legend=[],
                                   buttons=["export", "fullscreen"], label="Per epoch", show_label=False)
                note = gr.Markdown(elem_id="compare-note")
                reload = gr.Button("Reload runs", size="sm")
                # A Markdown table like the thesis's: no word is broken; on a phone it scrolls sideways.
                table = gr.Markdown(elem_id="runs-table")
                gr.Markdown(thesis_markdown(), elem_id="thesis-table")
                compare_outputs = [selected, plot, note, table, intro]
                compare_tab.select(lambda m, p, n: load_runs(m, p, n, False), [metric, photos, selected],
                                   compare_outputs, api_visibility="private")
                reload.click(lambda m, p, n: load_runs(m, p, n, True), [metric, photos, selected], compare_outputs,
                             api_visibility="private")
                for control in (metric, photos):
                    control.change(redraw, [metric, photos, selected], [plot, note], api_visibility="private")
                # A run ticked while the plot is being drawn is drawn next, never dropped.
                selected.input(redraw, [metric, photos, selected], [plot, note], api_visibility="private",
                               trigger_mode="always_last")

            with gr.Tab("About", id="about"):
                # Filled when the page loads: describing the starter imports torch, which would slow startup.
                about_md = gr.Markdown("Loading the model description…", elem_id="about-model")
                diagram = gr.Image(label="Reliability diagram", type="filepath", interactive=False, visible=False,
                                   elem_id="reliability", buttons=["fullscreen"])
                with gr.Accordion("Technical details", open=False, elem_id="technical-details"):
                    technical = gr.Markdown()
                described = [about_md, diagram, technical, summary]
                model.change(describe, [model], described, api_visibility="private")
        demo.load(describe, [model], described, api_visibility="private")
        demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return App(demo, models, default)
