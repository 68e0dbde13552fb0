"""The page: components, their events and the handlers that adapt `inat.app.views` to them; and launch.

    app = build_app()          # loads no model; `app.demo` is the gr.Blocks
    app.launch()               # parses --share/--port/--host, loads the default model in the background

Handlers only call the predictor and the views, and turn failures into one-sentence `gr.Error`s, so a
bad upload never takes the server down.
"""
from __future__ import annotations

import argparse
import html
import logging
import os
import threading
from dataclasses import dataclass

from ..errors import first_line
from ..hub import default_model, model_rows, resolve, weights_dir
from ..plots import TABLE_HEADERS
from ..runs import list_runs
from .figures import compare_png
from .photo import photo_input_class
from .predictors import ModelCache
from .views import about_markdown, card_markdown, label_value, model_choices, table_rows, thesis_markdown

log = logging.getLogger("inat")

TOP_K = 5                    # species shown by the label
MAX_FILE_SIZE = "20mb"       # uploads above this are refused by Gradio before they reach us
CONCURRENCY_LIMIT = 2        # CPU inference: more parallel requests only slow each other down
QUEUE_SIZE = 64              # waiting requests beyond this are turned away at once (20 failed 218 of
                             # 262 requests from 50 clients; 64 served all: benchmarks/robustness.py)
DELETE_CACHE = (3600, 3600)  # every hour, delete uploads older than an hour from Gradio's temp dir
EXAMPLES = ("lion.jpg", "cheetah.jpg", "tower.jpg")  # shipped with gradio (gradio.media); tower: not an organism


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
                   "max_file_size": MAX_FILE_SIZE, "footer_links": ["api", "gradio"]}
        return self.demo.launch(**{**options, **overrides})

    def _warm(self):
        try:
            self.models.get(self.default)
        except Exception as e:  # the first request reports it to the user
            log.warning("default model %s not loaded: %s", self.default, first_line(e))


def build_app(models: ModelCache | None = None, runs: list[dict] | None = None) -> App:
    """The page as a queued gr.Blocks. `models` shares predictors (a new cache by default); `runs` replaces
    `inat.runs.list_runs()` for the Compare tab (tests pass their own). Loads no model."""
    import gradio as gr  # keeps gradio out of start-up: only the app needs it
    from gradio.media import get_image  # gradio's sample photos: with gradio

    models = models or ModelCache()
    try:
        rows = model_rows()
    except OSError:  # a built-in's files are missing: offer what can be read
        rows = []
    choices = model_choices(rows)
    values = {v for _, v in choices}
    default = default_model()
    default = default if default in values else (choices[0][1] if choices else None)
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
            raise gr.Error(f"Model {model} could not be loaded: {html.escape(first_line(e), quote=False)}.",
                           print_exception=False) from None
        try:
            result = predictor.predict([image], k=TOP_K)[0]
        except Exception:
            log.exception("identifying a photo with %s failed", model)
            raise gr.Error("Something went wrong while identifying this photo; the details are in the "
                           "server log.", print_exception=False) from None
        if result.error:
            raise gr.Error(f"This photo is not usable: {html.escape(result.error, quote=False)}.",
                           print_exception=False)
        result.image = "photo"  # never the server's temp path
        return label_value(result), card_markdown(result), result.to_dict()

    def clear():
        return None, "Upload a photo to see its taxonomy.", None

    def identify_shown(image, model):
        # A new photo, an example or another model: identify what is on screen; nothing shown, nothing to do.
        return clear() if image is None else identify(image, model)

    def about(name):
        try:
            return about_markdown(resolve(name, names_only=True) if name else None, weights_folder=weights_dir().name)
        except Exception as e:
            return about_markdown(None, error=first_line(e), weights_folder=weights_dir().name)

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

    with gr.Blocks(title="inat: what species is this?", analytics_enabled=False,
                   delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# What species is this?\nIdentify plants, animals and fungi in a photo, compare the "
                    "architectures trained for it, and see what the model behind it is.")
        with gr.Tabs():
            with gr.Tab("Identify", id="identify"):
                with gr.Row():
                    with gr.Column(scale=1):
                        photo = photo_input_class()(type="pil", sources=["upload", "webcam", "clipboard"],
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
                outputs = [label, card, raw]
                # Examples set the photo only: the model stays the one the user picked.
                gr.Examples(examples=[[get_image(f)] for f in EXAMPLES], inputs=[photo],
                            label="Examples: a lion, a cheetah, and a tower (not an organism).")
                button.click(identify, [photo, model], outputs, api_name="identify",
                             api_description="Identify the species in a photo: top-5 label, taxonomy card "
                                             "(Markdown) and the raw result record.")
                # A new photo (upload, example, removal) first clears what was shown, so a failed upload never
                # leaves the previous photo's result on screen.
                photo.change(clear, None, outputs, queue=False, api_visibility="private").then(
                    identify_shown, [photo, model], outputs, api_visibility="private")
                model.input(identify_shown, [photo, model], outputs, api_visibility="private")

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
                compare_outputs = [selected, plot, download, table]
                compare_tab.select(lambda m, n: load_runs(m, n, False), [metric, selected], compare_outputs,
                                   api_visibility="private")
                reload.click(lambda m, n: load_runs(m, n, True), [metric, selected], compare_outputs,
                             api_visibility="private")
                metric.change(redraw, [metric, selected], [plot, download], api_visibility="private")
                selected.input(redraw, [metric, selected], [plot, download], api_visibility="private")

            with gr.Tab("About the model", id="about"):
                # Filled when the page loads: describing the starter imports torch, which would slow startup.
                about_md = gr.Markdown("Loading the model description…")
                model.change(about, [model], [about_md], api_visibility="private")
        demo.load(about, [model], [about_md], api_visibility="private")
        demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return App(demo, models, default)
