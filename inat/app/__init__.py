"""The Gradio app: Identify, Observations, Compare and About, for people who want to know what is in their photo.

    layout.py      the page: a title and the tabs, on one queue (`build_app`)
    identify_tab.py, observations_tab.py, compare_tab.py, about_tab.py
                   one tab each: its components, its events and its module-level handlers
    catalog.py     the models the page offers, read once; the handlers' shared state
    launch.py      `python demo.py`'s flags and serving the page (`App`)
    page.py        what the tabs share: example photos, run colours, page.css and page.js for launch, `bind`
    views.py       the Identify tab's result, names and error sentences, as pure functions (record in → Markdown)
    observations.py  the Observations tab: many photos → inat.observations.table rows, table, map and CSV (pure functions)
    about.py       the model picker's labels and the About tab, in people's words (model in → Markdown)
    compare.py     the Compare tab's curves, run names and tables (run records in → rows, Markdown)
    predictors.py  one shared Predictor per model name
    figures.py     the About tab's reliability diagram as a PNG
    photo.py       the photo input, opened by inat.core.images.open_image
    page.css, page.js   the page's few style rules and browser behaviours (given to launch)

Importing this package loads neither gradio nor a model; `build_app()` builds the page. The `*_tab` modules
are made of Gradio and load it.
"""
from .launch import App
from .layout import build_app

__all__ = ["App", "build_app"]
