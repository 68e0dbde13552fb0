"""What the tabs share that is not a component: the example photos, the run colours, the CSS and the
<head> given at launch, and `bind`, which gives a module-level handler the state it works on.

No Gradio here: `inat.app.launch` reads it before the page is built.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE_DIR = HERE.parents[1] / "assets" / "examples"
# Example photo → its accessible name. lion, cheetah and tower ship with gradio (gradio.media); the daisy
# is ours (assets/examples/README.md); tower: not an organism.
EXAMPLES = {"lion.jpg": "Example: a lion", "cheetah.jpg": "Example: a cheetah",
            "daisy.jpg": "Example: oxeye daisies, a plant", "tower.jpg": "Example: a tower, not an organism"}
# A colour per run, by its position in the run list (so a run keeps its colour when others are hidden):
# matplotlib's tab10 with its grey replaced, as grey is the chance line's.
RUN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#393b79"]
CHANCE_COLOUR = "#6b6b6b"
PRIVATE = {"api_visibility": "private"}  # an event of the page itself, kept off the API page


def example_path(name: str) -> str:
    """The file of an example photo: ours in assets/examples, else gradio's sample of that name."""
    ours = EXAMPLE_DIR / name
    if ours.is_file():
        return str(ours)
    from gradio.media import get_image  # gradio's sample photos: with gradio
    return str(get_image(name))


def run_colour_css() -> str:
    """CSS giving each run's checkbox its line's colour: the checkboxes are the plot's legend (page.css)."""
    n = len(RUN_COLOURS)
    return "\n".join(f"#compare-runs label:nth-of-type({n}n+{i + 1}) {{ --run-colour: {c}; }}"
                     for i, c in enumerate(RUN_COLOURS))


def page_css() -> str:
    """page.css and the run colours: the page's style rules (given to launch)."""
    return (HERE / "page.css").read_text() + run_colour_css()


def page_head() -> str:
    """What the page adds to <head>: the example names and page.js."""
    names = json.dumps(list(EXAMPLES.values()))
    return f"<script>window.inatExampleNames = {names};</script>\n<script>{(HERE / 'page.js').read_text()}</script>"


def bind(handler, *state, **keywords):
    """`functools.partial(handler, *state, **keywords)` under the handler's own name, which Gradio names the
    event after. The state goes first, so the arguments left are the event's inputs, in order."""
    bound = functools.partial(handler, *state, **keywords)
    bound.__name__ = handler.__name__
    return bound
