"""The photo input: gr.Image whose uploads are opened by `inat.images.open_image`."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from ..images import ImageError, open_image


def photo_input_class():
    """gr.Image whose uploads are opened by `open_image`: pixel limits are checked before decoding (a
    decompression bomb never reaches memory), EXIF orientation is applied, alpha/16-bit/CMYK become RGB,
    and an unusable file raises a one-sentence gr.Error. A function so gradio loads only with the UI."""
    import gradio as gr  # keeps gradio out of start-up

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
