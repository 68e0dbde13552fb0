"""inat.app.page: the example photos, the run colours and `bind`, which the tabs share."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from inat.app.page import EXAMPLES, RUN_COLOURS, bind, example_path, run_colour_css
from inat.testing.photos import PHOTOS, sample_photo


def test_bind_gives_the_state_first_and_keeps_the_handlers_name():
    def redraw(state, metric, photos, names=None, select_all=False):
        return state, metric, photos, names, select_all
    bound = bind(redraw, "runs", select_all=True)
    assert bound.__name__ == "redraw"  # Gradio names the event after it
    assert list(inspect.signature(bound).parameters)[:3] == ["metric", "photos", "names"]  # the event's inputs
    assert bound("top-1", "validation", ["a"]) == ("runs", "top-1", "validation", ["a"], True)


def test_each_run_colour_is_one_checkbox_rule():
    css = run_colour_css()
    assert css.count("#compare-runs label:nth-of-type(") == len(RUN_COLOURS)
    assert f"nth-of-type({len(RUN_COLOURS)}n+1) {{ --run-colour: {RUN_COLOURS[0]}; }}" in css


@pytest.mark.integration
def test_sample_photo_is_gradios_file_and_the_examples_exist(gr):
    from gradio.media import get_image
    assert [sample_photo(p) for p in PHOTOS] == [str(get_image(p)) for p in PHOTOS]
    assert [example_path(p) for p in PHOTOS] == [sample_photo(p) for p in PHOTOS]  # gradio's, not copied
    assert Path(example_path("daisy.jpg")).parent.name == "examples"  # ours: assets/examples
    assert all(Path(example_path(p)).is_file() for p in EXAMPLES)
    # Every example has a name a screen reader says (finding 12), and there is a plant among them (finding 2).
    assert all(name.startswith("Example: ") for name in EXAMPLES.values()) and "daisy.jpg" in EXAMPLES


@pytest.mark.integration
def test_the_starter_names_the_plant_example():
    from inat.app.views import taxon_name
    from inat.identify.predict import Predictor
    try:
        predictor = Predictor("starter")
    except Exception as e:  # the starter's weights package is not installed
        pytest.skip(f"starter not installed: {e}")
    r = predictor.predict([example_path("daisy.jpg")], k=1)[0]
    assert taxon_name(r.top.taxon) == "Oxeye daisy (Leucanthemum vulgare)" and r.top.probability > 0.9
