"""The species identification app: `python demo.py [--share] [--port N] [--host H]`; the Hugging Face Spaces `app_file`.

The page is built by `inat.app` from the library; this file only builds it and launches it. `demo` is
module-level (and loads no model), so `gradio demo.py` reload mode and the tests can import it.
"""
from inat.app import build_app

app = build_app()
demo = app.demo

if __name__ == "__main__":
    app.launch()
