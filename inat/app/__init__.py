"""The Gradio app: Identify, Observations, Compare and About, for people who want to know what is in their photo.

    views.py       the Identify tab's result, names and error sentences, as pure functions (record in → Markdown)
    observations.py  the Observations tab: many photos → inat.observations.table rows, table, map and CSV (pure functions)
    about.py       the model picker's labels and the About tab, in people's words (bundle in → Markdown)
    compare.py     the Compare tab's curves, run names and tables (run records in → rows, Markdown)
    layout.py      the components, their events and handlers, and launch (`build_app`)
    predictors.py  one shared Predictor per model name
    figures.py     the About tab's reliability diagram as a PNG
    photo.py       the photo input, opened by inat.core.images.open_image
    page.css, page.js   the page's few style rules and browser behaviours (given to launch)

Importing this package loads neither gradio nor a model; `build_app()` builds the page.
"""
from .layout import App, build_app

__all__ = ["App", "build_app"]
