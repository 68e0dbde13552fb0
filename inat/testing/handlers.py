"""The app's handlers as tests and benchmarks call them, without a browser or a server."""
from __future__ import annotations


def app_identify(app):
    """(photo input, handler) of /identify on a built `app` (`inat.app.build_app()`): a photo input made as the
    Identify tab makes its own (its `preprocess` is what Gradio runs on an upload) and `identify` bound to the
    app's models."""
    from ..app.identify_tab import identify, photo_input
    from ..app.page import bind
    return photo_input(), bind(identify, app.catalog)
