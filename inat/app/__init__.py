"""The Gradio app: Identify, Compare architectures, About the model.

    views.py       what the page shows, as pure functions (record/bundle in → Markdown/dicts out)
    layout.py      the components, their events and handlers, and launch (`build_app`)
    predictors.py  one shared Predictor per model name
    figures.py     the Compare tab's PNG files
    photo.py       the photo input, opened by inat.images.open_image

Importing this package loads neither gradio nor a model; `build_app()` builds the page.
"""
from .layout import App, build_app

__all__ = ["App", "build_app"]
