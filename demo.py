"""The species identification app: `python demo.py [--share] [--port N]`; the Hugging Face Spaces `app_file`.

The UI is built by `inat.app` from the library; this file only creates it and launches it.
`demo` is module-level (and loads no model), so `gradio demo.py` reload mode and the tests can import it.
"""
from inat.app import build_demo, launch

demo = build_demo()

if __name__ == "__main__":
    launch(demo)
