"""The Identify tab: one photo in, the result card out; and the model picker, which the other tabs follow.

Handlers take the `Catalog` first (bound by `page.bind`) and turn failures into one plain sentence
(`gr.Error`) while the log keeps the technical detail, so a bad upload never takes the server down.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

import gradio as gr

from .catalog import Catalog
from .page import EXAMPLES, PRIVATE, bind, example_path
from .photo import UnusablePhoto, photo_input_class
from .views import DROP_PHOTO, PHOTO_TIPS, PLACEHOLDER, card_markdown, label_value, photo_problem, problem_card

log = logging.getLogger("inat")

TOP_K = 5                    # species shown by the label
# Client-side only: bring the result into view once it is there (page.js).
SHOW_RESULT_JS = "() => { if (window.inatShowResult) window.inatShowResult(); }"
# Client-side only: a photo the user gave replaces the example, whose thumbnail stops being highlighted (page.js).
CLEAR_EXAMPLE_JS = "() => { if (window.inatClearExample) window.inatClearExample(); }"


class Picker(NamedTuple):
    """The Identify tab's components that other tabs follow: the model picker and the line under it."""

    model: object     # gr.Dropdown: the model's name
    summary: object   # gr.Markdown: what it knows and how often it is right (About fills it)


def identify(catalog: Catalog, image, model: str | None = None):
    """/identify: (label, card, raw record) for a photo; one sentence (gr.Error) when it cannot be done."""
    if image is None:  # a plain sentence, no traceback in the server's console
        raise gr.Error("Upload a photo first, or pick one of the examples.", print_exception=False)
    if isinstance(image, UnusablePhoto):
        raise gr.Error(image.message, print_exception=False)
    predictor = catalog.predictor(model)
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
    return label_value(result), card_markdown(result, shared, size, catalog.options.get(model, ())), result.to_dict()


def clear():
    """Nothing shown: the card's placeholder."""
    return None, PLACEHOLDER, None


def identify_shown(catalog: Catalog, image, model):
    """A new photo, an example or another model: identify what is on screen; nothing shown, nothing to do.
    A file that is no usable photo is explained in the card, where the result would have been."""
    if isinstance(image, UnusablePhoto):
        return None, problem_card(image.message), None
    return clear() if image is None else identify(catalog, image, model)


def show_details(raw):
    """The "Technical details" accordion, shown once there is a result."""
    return gr.Accordion(visible=raw is not None)


def photo_input():
    """The photo input, its uploads opened by `inat.core.images.open_image` (`photo.photo_input_class`)."""
    return photo_input_class()(type="pil", sources=["upload", "webcam", "clipboard"], label="Photo", height=360,
                               elem_id="photo", alt_text="The photo to identify", placeholder=DROP_PHOTO)


def identify_tab(catalog: Catalog) -> Picker:
    """The Identify tab: photo, examples, model picker, button; the card and the raw record."""
    with gr.Tab("Identify", id="identify"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                photo = photo_input()
                gr.Markdown(PHOTO_TIPS, elem_id="photo-tips")
                # Examples set the photo only: the model stays the one the user picked.
                gr.Examples(examples=[[example_path(f)] for f in EXAMPLES], inputs=[photo],
                            label="Examples: a lion, a cheetah, oxeye daisies and a tower (not an organism)",
                            elem_id="examples")
                model = gr.Dropdown(choices=catalog.choices, value=catalog.default, label="Model",
                                    elem_id="model-picker")
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
        _identify_events(catalog, photo, model, button, [label, card, raw], details)
    return Picker(model, summary)


def _identify_events(catalog: Catalog, photo, model, button, outputs, details) -> None:
    shown = bind(identify_shown, catalog)
    outputs[-1].change(show_details, outputs[-1:], [details], queue=False, **PRIVATE)
    button.click(bind(identify, catalog), [photo, model], outputs, api_name="identify",
                 api_description="Identify the species in a photo: top-5 label, result card "
                                 "(Markdown) and the raw result record.").then(None, js=SHOW_RESULT_JS, **PRIVATE)
    # A new photo (upload, example, removal) or another model first clears what was shown, so a
    # failed upload or model never leaves the previous result on screen.
    photo.change(clear, None, outputs, queue=False, **PRIVATE).then(
        shown, [photo, model], outputs, **PRIVATE).then(None, js=SHOW_RESULT_JS, **PRIVATE)
    # Upload, paste and webcam are the user's input (an example only changes the photo).
    photo.input(None, js=CLEAR_EXAMPLE_JS, queue=False, **PRIVATE)
    # "always_last": a second choice made while the first is still running is not dropped.
    model.input(clear, None, outputs, queue=False, trigger_mode="always_last", **PRIVATE).then(
        shown, [photo, model], outputs, **PRIVATE)
