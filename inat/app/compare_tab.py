"""The Compare tab: the training runs' curves, their table and the thesis's, read when the tab opens.

Handlers take `read_runs` first (bound by `page.bind`): `inat.training.runs.list_runs`, or the tests' own runs.
The pieces are `inat.app.compare`'s pure functions.
"""
from __future__ import annotations

from typing import Callable

import gradio as gr

from ..models.registry import list_bundles
from ..training.plots import METRICS
from .compare import (compare_intro, curve_note, curve_rows, epoch_axis, is_chance, run_choices, runs_markdown,
                      thesis_markdown)
from .page import CHANCE_COLOUR, PRIVATE, RUN_COLOURS, bind

ReadRuns = Callable[[], list[dict]]


def dataset_words() -> dict[str, str]:
    """{data set: words} from the bundles trained on it that declare their scope."""
    out = {}
    for b in list_bundles():
        if b.run.get("dataset") and (b.scope or {}).get("description"):
            out.setdefault(b.run["dataset"], b.scope["description"])
    return out


def plot_value(all_runs: list[dict], rows: list[dict], metric: str):
    """The plot's new value: `rows` in the runs' colours, the chance line in grey."""
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


def redraw(read_runs: ReadRuns, metric: str, photos: str, names):
    """(plot, note) for another measure, other photos or other runs ticked."""
    all_runs = read_runs()
    names = [n for n in names or [] if n in {r["name"] for r in all_runs}]
    rows = curve_rows(all_runs, metric, photos, names)
    return plot_value(all_runs, rows, metric), curve_note(all_runs, metric, photos, names)


def load_runs(read_runs: ReadRuns, metric: str, photos: str, names, select_all: bool = False):
    """Re-read the runs (training may have added some); keep the user's selection unless asked.
    (runs ticked, plot, note, runs table, intro)."""
    all_runs = read_runs()
    known = [r["name"] for r in all_runs]
    keep = [n for n in known if n in (names or [])]
    names = known if select_all or not keep else keep
    rows = curve_rows(all_runs, metric, photos, names)
    return (gr.CheckboxGroup(choices=run_choices(all_runs), value=names), plot_value(all_runs, rows, metric),
            curve_note(all_runs, metric, photos, names), runs_markdown(all_runs),
            compare_intro(all_runs, dataset_words()))


def compare_tab(read_runs: ReadRuns) -> None:
    """The Compare tab: measure and photos, the runs as the plot's legend, the plot, its note and the tables."""
    with gr.Tab("Compare", id="compare") as tab:
        intro = gr.Markdown(elem_id="compare-intro")
        with gr.Row():
            metric = gr.Radio([("loss", "loss"), ("top-1 accuracy", "top-1"), ("top-5 accuracy", "top-5")],
                              value="top-1", label="Measure", scale=1)
            photos = gr.Radio([("validation photos (never trained on)", "validation"),
                               ("training photos", "training")], value="validation", label="Measured on", scale=1)
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
        inputs, outputs = [metric, photos, selected], [selected, plot, note, table, intro]
        tab.select(bind(load_runs, read_runs), inputs, outputs, **PRIVATE)
        reload.click(bind(load_runs, read_runs, select_all=True), inputs, outputs, **PRIVATE)
        for control in (metric, photos):
            control.change(bind(redraw, read_runs), inputs, [plot, note], **PRIVATE)
        # A run ticked while the plot is being drawn is drawn next, never dropped.
        selected.input(bind(redraw, read_runs), inputs, [plot, note], trigger_mode="always_last", **PRIVATE)
