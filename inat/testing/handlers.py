"""The app's handlers as tests and benchmarks call them, without a browser or a server."""
from __future__ import annotations


def app_identify(app):
    """(photo component, handler) of the page's api_name="identify" event on a built `app` (`inat.app.build_app()`):
    what Gradio runs for /identify; the component's `preprocess` is what Gradio calls on an upload."""
    for fn in app.demo.fns.values():
        if fn.api_name == "identify":
            return fn.inputs[0], fn.fn
    raise LookupError("the demo has no api_name='identify' event")
