"""The Observations tab: a day's photo files in; a summary, the table, the map and the CSV file out.

The pieces are `inat.app.observations`' pure functions; the model is the one picked on the Identify tab.
"""
from __future__ import annotations

import logging

import gradio as gr

from . import observations, sketch_map
from .catalog import Catalog
from .identify_tab import Picker
from .page import PRIVATE, bind

log = logging.getLogger("inat")


def observe_files(catalog: Catalog, files, model: str | None = None, progress=gr.Progress()):
    """/observations: the summary, the table, the map and the CSV file for a batch of photo files."""
    problem = observations.batch_problem(len(files or []))
    if problem:  # said where the summary goes: no toast and red "Error" pill on top of it, no traceback
        return problem, observations.TABLE_PLACEHOLDER, "", None
    predictor = catalog.predictor(model)
    paths = observations.upload_order(files)
    try:
        rows, thumbs, hints = observations.observe(
            predictor, paths, lambda done, total, what: progress((done, total), desc=what, unit="photos"),
            catalog.options.get(model, ()))
        csv_path = observations.write_observations_csv(rows)
    except Exception:
        log.exception("observations of %d photos with %s failed", len(paths), model)
        raise gr.Error("Something went wrong while identifying these photos: try again, or send fewer at a time.",
                       print_exception=False) from None
    return (observations.summary_markdown(rows), observations.table_html(rows, thumbs, hints),
            sketch_map.map_html(rows), str(csv_path))


def count_files(files):
    """The file box, its label saying how many were chosen (it lists a few and scrolls)."""
    return gr.File(label=observations.files_label(len(files or [])))


def observations_tab(catalog: Catalog, picker: Picker) -> None:
    """The Observations tab: files, the model line, the button; the summary, table, CSV and map."""
    with gr.Tab("Observations", id="observations"):
        gr.Markdown(f"Identify a day's photos at once: a table of when, where and what, a map of where, and "
                    f"a CSV file with iNaturalist's column names. {observations.LIMIT_NOTE}\n\n"
                    f"{observations.PRIVACY_NOTE}", elem_id="obs-intro")
        files = gr.File(file_count="multiple", label=observations.files_label(0), elem_id="obs-files", height=160)
        model_line = gr.Markdown(observations.model_line(catalog.default), elem_id="obs-model")
        button = gr.Button("Identify all", variant="primary", elem_id="obs-run")
        summary = gr.Markdown(elem_id="obs-summary")
        table = gr.HTML(observations.TABLE_PLACEHOLDER, elem_id="obs-table", js_on_load=None, min_height=60)
        csv = gr.File(label="Download the table as CSV", interactive=False, elem_id="obs-csv")
        map_ = gr.HTML(elem_id="obs-map", js_on_load=None)
        # One batch at a time: two would each take twice as long and hold twice the memory, while
        # the Identify tab keeps its own slots.
        button.click(bind(observe_files, catalog), [files, picker.model], [summary, table, map_, csv],
                     api_name="observations", concurrency_limit=1, show_progress_on=[table],
                     api_description=f"Identify up to {observations.MAX_PHOTOS} photo files: a summary "
                                     f"(Markdown), the table and the map (HTML), and the CSV file with the "
                                     f"columns of python -m inat predict --csv.")
        picker.model.change(observations.model_line, [picker.model], [model_line], **PRIVATE)
        files.change(count_files, [files], [files], queue=False, **PRIVATE)
