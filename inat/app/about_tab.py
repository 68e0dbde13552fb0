"""The About tab: what the picked model knows, its reliability diagram and its technical details; and the
line under the picker. Filled when the page loads and whenever another model is picked."""
from __future__ import annotations

import gradio as gr

from ..models.registry import weights_dir
from .about import about_markdown, reliability, summary_markdown, technical_markdown
from .catalog import Catalog, readable
from .figures import reliability_png
from .identify_tab import Picker
from .page import PRIVATE, bind


def describe(catalog: Catalog, name: str | None):
    """(About, the diagram, Technical details, the line under the picker) for one model name."""
    m = readable(name) if name else None
    error = None if m is not None else (f"{name}: no such model" if name else "no model chosen")
    rel = reliability(m) if m is not None else None
    png = reliability_png(*rel) if rel else None
    diagram = gr.Image(value=png, visible=png is not None,
                       alt_text=f"Reliability diagram of {name}: the probability it states against how "
                                f"often it was right, before and after calibration" if png else None)
    return (about_markdown(m, more=catalog.more), diagram, technical_markdown(m, weights_dir().name, error),
            summary_markdown(m))


def about_tab(demo, catalog: Catalog, picker: Picker) -> None:
    """The About tab, described again for each model picked, and first when `demo` loads."""
    with gr.Tab("About", id="about"):
        # Filled when the page loads: describing the starter imports torch, which would slow startup.
        about_md = gr.Markdown("Loading the model description…", elem_id="about-model")
        diagram = gr.Image(label="Reliability diagram", type="filepath", interactive=False, visible=False,
                           elem_id="reliability", buttons=["fullscreen"])
        with gr.Accordion("Technical details", open=False, elem_id="technical-details"):
            technical = gr.Markdown()
        described = [about_md, diagram, technical, picker.summary]
        picker.model.change(bind(describe, catalog), [picker.model], described, **PRIVATE)
    demo.load(bind(describe, catalog), [picker.model], described, **PRIVATE)
