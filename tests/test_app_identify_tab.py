"""inat.app.identify_tab: the Identify tab's handlers, called directly with the app's models (conftest's
`catalog`: `felids`, the default, Lion 40 % and genus Panthera 75 % whatever the photo; `scoped`, 90 % on an
out-of-scope output), so every answer is known in advance. `integration`: they answer in Gradio's terms.
"""
from __future__ import annotations

import pytest
from PIL import Image

from inat.app.views import NBSP, PLACEHOLDER
from inat.testing.photos import sample_photo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tab(gr):
    import inat.app.identify_tab
    return inat.app.identify_tab


def test_identify_handler(tab, catalog):
    label, card, raw = tab.identify(catalog, Image.open(sample_photo("lion.jpg")), "felids")
    assert list(label)[:2] == ["Lion (Panthera leo)", "Leopard (Panthera pardus)"] and len(label) <= tab.TOP_K
    assert card.startswith(f"## A big cat — most likely Lion, 40{NBSP}%")  # genus Panthera 75 %: the group it is sure of
    assert "Small photo" not in card
    assert raw["image"] == "photo"  # never the server's temp path
    assert raw["model"] == "felids" and raw["predictions"][0]["class_id"] == 101 and raw["error"] is None
    assert raw["lineage"][-1]["name"] == "Panthera leo" and raw["in_scope_probability"] is None
    _, card, raw = tab.identify(catalog, Image.open(sample_photo("tower.jpg")), "scoped")
    assert raw["in_scope"] is False and card.startswith("## This does not look like an organism I know")
    _, card, _ = tab.identify(catalog, Image.new("RGB", (32, 48), "green"), "felids")
    assert "**Small photo (32 × 48 pixels):**" in card  # finding 11


@pytest.mark.parametrize("image, model, words", [
    (None, "felids", "Upload a photo first"),
    ("photo", "../weights/felids", "Unknown model '../weights/felids'; choose one of: felids, "),
    ("photo", "<b>x</b>", "Unknown model '&lt;b&gt;x&lt;/b&gt;'"),
])
def test_identify_refuses_with_one_sentence(tab, catalog, gr, image, model, words):
    with pytest.raises(gr.Error) as e:
        tab.identify(catalog, Image.new("RGB", (40, 30)) if image else None, model)
    assert words in e.value.message and "\n" not in e.value.message


def test_a_file_that_is_no_photo_is_an_api_error_and_a_card_on_the_page(tab, catalog, gr):
    from inat.app.photo import UnusablePhoto
    refused = UnusablePhoto("notes.jpg is not a photo this app can open: choose a JPEG, PNG, WebP or HEIC file.")
    with pytest.raises(gr.Error) as e:  # /identify: the sentence as the error
        tab.identify(catalog, refused, "felids")
    assert e.value.message == refused.message
    label, card, raw = tab.identify_shown(catalog, refused, "felids")  # the page: in the card, where the result goes
    assert label is None and raw is None and card.startswith("## This file cannot be used") and refused.message in card


def test_what_is_shown_follows_the_photo_on_screen(tab, catalog):
    assert tab.identify_shown(catalog, None, "felids") == tab.clear() == (None, PLACEHOLDER, None)
    label, card, _ = tab.identify_shown(catalog, Image.open(sample_photo("lion.jpg")), "felids")
    assert list(label)[0] == "Lion (Panthera leo)" and card.startswith("## A big cat")


def test_a_model_that_cannot_load_is_one_sentence(tab, app_env, gr, monkeypatch):
    import inat.app.predictors
    from inat.app.catalog import Catalog

    def broken(bundle):
        raise RuntimeError("weights gone <script>\nTraceback ...")
    monkeypatch.setattr(inat.app.predictors, "Predictor", broken)
    with pytest.raises(gr.Error) as e:
        tab.identify(Catalog.read(), Image.new("RGB", (40, 30)), "scoped")
    assert e.value.message == ("The scoped model could not be loaded: choose another model (whoever runs this app "
                               "finds the reason in its log).")  # no library detail on the page (finding 5)


def test_the_details_show_once_there_is_a_result(tab):
    assert tab.show_details({"model": "felids"}).visible is True and tab.show_details(None).visible is False


def test_the_photo_input_is_the_pages(tab, app_env):
    from inat.app.layout import build_app
    photo = tab.photo_input()
    assert type(photo).__name__ == "PhotoInput" and photo.elem_id == "photo"  # inat.app.photo's input
    page = {c["props"].get("elem_id"): c for c in build_app(runs=[]).demo.config["components"]}
    assert page["photo"]["props"]["sources"] == photo.sources and page["photo"]["props"]["alt_text"] == photo.alt_text
