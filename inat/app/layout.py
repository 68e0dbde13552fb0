"""The page: a title and one tab each, built by its own module, on one queue.

    app = build_app()          # loads no model; `app.demo` is the gr.Blocks
    app.launch()               # inat.app.launch: parses --share/--port/--host and serves

A tab is a function `*_tab(...)` that builds its components inside `gr.Tab` and wires them to module-level
handlers, which take their state (the `Catalog`, the run reader) explicitly. A new tab is one such function
and one line below.
"""
from __future__ import annotations

from ..training.runs import list_runs
from .catalog import Catalog
from .launch import App
from .predictors import ModelCache

CONCURRENCY_LIMIT = 2        # CPU inference: more parallel requests only slow each other down
QUEUE_SIZE = 64              # waiting requests beyond this are turned away at once (20 failed 218 of
                             # 262 requests from 50 clients; 64 served all: benchmarks/robustness.py)
DELETE_CACHE = (3600, 3600)  # every hour, delete uploads older than an hour from Gradio's temp dir
TITLE = "What species is this?"
INTRO = (f"# {TITLE}\nName the plant, animal or fungus in a photo. *Compare* shows how the models learnt; "
         "*About* says what each one knows and how often it is right.")


def build_app(models: ModelCache | None = None, runs: list[dict] | None = None) -> App:
    """The page as a queued gr.Blocks. `models` shares predictors (a new cache by default); `runs` replaces
    `inat.training.runs.list_runs()` for the Compare tab (tests pass their own). Loads no model."""
    # gradio and the tabs, which are made of it, load with the page only: never at start-up.
    import gradio as gr

    from .about_tab import about_tab
    from .compare_tab import compare_tab
    from .identify_tab import identify_tab
    from .observations_tab import observations_tab

    catalog = Catalog.read(models)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            picker = identify_tab(catalog)
            observations_tab(catalog, picker)
            compare_tab((lambda: runs) if runs is not None else list_runs)
            about_tab(demo, catalog, picker)
        demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return App(demo, catalog)
