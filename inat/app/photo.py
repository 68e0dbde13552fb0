"""The photo input: gr.Image whose uploads are opened by `inat.core.images.open_image`."""
from __future__ import annotations

import base64
import html
import logging
from dataclasses import dataclass
from pathlib import Path

from ..core.images import ImageError, open_image
from .views import photo_problem

log = logging.getLogger("inat")


@dataclass(frozen=True)
class UnusablePhoto:
    """An upload that cannot be used, and the one sentence that says why and what to do. The handler
    decides how to say it: the API raises it as an error, the page shows it in the result card."""

    message: str


def photo_input_class():
    """gr.Image whose uploads are opened by `open_image`: pixel limits are checked before decoding (a
    decompression bomb never reaches memory), EXIF orientation is applied, alpha/16-bit/CMYK become RGB,
    and an unusable file becomes an `UnusablePhoto` with one sentence that says what to do
    (`views.photo_problem`: no server path, no library name; the technical reason goes to the log).
    A function so gradio loads only with the UI."""
    import gradio as gr  # keeps gradio out of start-up: only the app needs it

    class PhotoInput(gr.Image):
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
                    log.info("photo %s refused: its data URL is not valid base64", name)
                    return UnusablePhoto("The photo did not arrive whole: try uploading it again.")
            if source is None:
                return UnusablePhoto("No photo received: upload one again.")
            try:
                return open_image(source)
            except ImageError as e:
                log.info("photo %s refused: %s", name, e)
                return UnusablePhoto(photo_problem(name, str(e)))

    return PhotoInput
