"""The models the page offers, read once when it is built: the picker's choices and default, what each model
may suggest when its answer stops at a group, the About tab's note on experts, and the shared predictors.

Every handler that runs or describes a model takes the `Catalog` as its first argument (bound by
`page.bind`), so it can be called in a test without building the page.
"""
from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field

from ..core.errors import first_line
from ..models.registry import default_model, model_rows, resolve
from ..naturalist.experts import EXPERTS
from .about import model_choices, more_experts_markdown, naming_options
from .predictors import ModelCache

log = logging.getLogger("inat")


def readable(name: str):
    """The model's Bundle (or Ensemble) for the picker and About, or None when it cannot be read."""
    try:
        return resolve(name, names_only=True)
    except Exception as e:
        log.warning("model %s cannot be described: %s", name, first_line(e))
        return None


@dataclass
class Catalog:
    """What the page knows of its models. The picker's models are fixed until a restart, and so is this."""

    models: ModelCache                                   # one shared Predictor per model name
    choices: list[tuple[str, str]] = field(default_factory=list)  # the picker's (label, name)
    default: str | None = None                           # the picker's first value; None: no model at all
    options: dict[str, list] = field(default_factory=dict)  # name → `about.naming_options` for its cards
    more: str | None = None                              # About's paragraph on the experts not installed

    @classmethod
    def read(cls, models: ModelCache | None = None) -> "Catalog":
        """The installed models, read by name (no weights loaded); `models`: predictors to share."""
        try:
            rows = model_rows()
        except OSError:  # a built-in's files are missing: offer what can be read
            rows = []
        found = {r["name"]: readable(r["name"]) for r in rows}
        choices = model_choices(list(found.items()))
        names = {v for _, v in choices}
        default = default_model()
        default = default if default in names else (choices[0][1] if choices else None)
        options = {name: naming_options(name, m, found, EXPERTS) for name, m in found.items() if m is not None}
        return cls(models or ModelCache(), choices, default, options, more_experts_markdown(EXPERTS, found))

    @property
    def names(self) -> set[str]:
        """The names a request may ask for: the picker's, never a path."""
        return {v for _, v in self.choices}

    def predictor(self, model):
        """The shared Predictor of a listed model name; one sentence (gr.Error) for anything else."""
        import gradio as gr  # only the page asks, and its handlers answer with gr.Error
        if model not in self.names:
            raise gr.Error(f"Unknown model {html.escape(repr(model)[:80], quote=False)}; choose one of: "
                           f"{', '.join(sorted(self.names)) or 'none installed'}.", print_exception=False)
        try:
            return self.models.get(model)
        except Exception:
            log.exception("model %s failed to load", model)
            raise gr.Error(f"The {model} model could not be loaded: choose another model (whoever runs this "
                           f"app finds the reason in its log).", print_exception=False) from None
