"""inat.app.layout: the page's wiring and handlers on a real Gradio page, then the launched app through
gradio_client. All `integration` (Gradio itself takes seconds to load; the pure views are test_app_views.py).

The app serves conftest's `felids` (the default; Lion 40 %, genus Panthera 75 % whatever the photo) and
`scoped` (90 % on an out-of-scope output), so every answer is known in advance.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import app_identify
from inat.testing.photos import PHOTOS, sample_photo
from inat.app.layout import (CONCURRENCY_LIMIT, EXAMPLES, MAX_FILE_SIZE, QUEUE_SIZE, RUN_COLOURS, TOP_K, App, build_app,
                              example_path)
from inat.app.views import NBSP

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(app_env, gr) -> App:
    return build_app(runs=[])


def test_sample_photo_is_gradios_file_and_the_examples_exist():
    from gradio.media import get_image
    assert [sample_photo(p) for p in PHOTOS] == [str(get_image(p)) for p in PHOTOS]
    assert [example_path(p) for p in PHOTOS] == [sample_photo(p) for p in PHOTOS]  # gradio's, not copied
    assert Path(example_path("daisy.jpg")).parent.name == "examples"  # ours: assets/examples
    assert all(Path(example_path(p)).is_file() for p in EXAMPLES)
    # Every example has a name a screen reader says (finding 12), and there is a plant among them (finding 2).
    assert all(name.startswith("Example: ") for name in EXAMPLES.values()) and "daisy.jpg" in EXAMPLES


def _components(demo) -> dict:
    return {c["id"]: c for c in demo.config["components"]}


def test_the_identify_endpoint_is_image_first_then_model(app):
    deps = [d for d in app.demo.config["dependencies"] if d.get("api_name") == "identify"]
    assert len(deps) == 1
    comps = _components(app.demo)
    dep = deps[0]
    assert [comps[i]["type"] for i in dep["inputs"]] == ["image", "dropdown"]
    assert [comps[i]["type"] for i in dep["outputs"]] == ["label", "markdown", "json"]
    assert comps[dep["targets"][0][0]]["type"] == "button"
    # Every other event but the Observations tab's stays off the API page.
    public = [d["api_name"] for d in app.demo.config["dependencies"] if d.get("api_visibility") == "public"]
    assert public == ["identify", "observations"]


def test_examples_set_the_photo_only(app):
    comps = _components(app.demo)
    [load] = [d for d in app.demo.config["dependencies"] if d.get("api_name") == "load_example"]
    assert [comps[i]["type"] for i in load["outputs"]] == ["image"]  # the model picked stays picked
    assert not any("cache" in k and v for k, v in load.items())


def test_model_picker_lists_names_with_the_default(app):
    picker = next(c for c in app.demo.config["components"] if c["props"].get("elem_id") == "model-picker")
    choices = [tuple(c) for c in picker["props"]["choices"]]
    from inat.models.registry import BUILTINS
    assert [v for _, v in choices] == [*BUILTINS, "felids", "scoped"]
    assert ("4 species (felids)", "felids") in choices
    assert picker["props"]["value"] == "felids" == app.default
    assert not picker["props"].get("info")  # the grey 1.9:1 help text is gone (finding 6): model-summary says it


def test_every_compare_metric_can_be_drawn(app):
    from inat.training.plots import METRICS
    radio = next(c for c in app.demo.config["components"] if c["type"] == "radio")
    assert [c[1] for c in radio["props"]["choices"]] == list(METRICS)


def test_queue_is_built_with_the_limits(app):
    assert app.demo._queue.max_size == QUEUE_SIZE and app.demo._queue.default_concurrency_limit == CONCURRENCY_LIMIT


def test_identify_handler(app):
    _, identify = app_identify(app.demo)
    from PIL import Image
    label, card, raw = identify(Image.open(sample_photo("lion.jpg")), "felids")
    assert list(label)[:2] == ["Lion (Panthera leo)", "Leopard (Panthera pardus)"] and len(label) <= TOP_K
    assert card.startswith(f"## A big cat — most likely Lion, 40{NBSP}%")  # genus Panthera 75 %: the group it is sure of
    assert "Small photo" not in card
    assert raw["image"] == "photo"  # never the server's temp path
    assert raw["model"] == "felids" and raw["predictions"][0]["class_id"] == 101 and raw["error"] is None
    assert raw["lineage"][-1]["name"] == "Panthera leo" and raw["in_scope_probability"] is None
    _, card, raw = identify(Image.open(sample_photo("tower.jpg")), "scoped")
    assert raw["in_scope"] is False and card.startswith("## This does not look like an organism I know")
    _, card, _ = identify(Image.new("RGB", (32, 48), "green"), "felids")
    assert "**Small photo (32 × 48 pixels):**" in card  # finding 11


@pytest.mark.parametrize("image, model, words", [
    (None, "felids", "Upload a photo first"),
    ("photo", "../weights/felids", "Unknown model '../weights/felids'; choose one of: felids, "),
    ("photo", "<b>x</b>", "Unknown model '&lt;b&gt;x&lt;/b&gt;'"),
])
def test_identify_refuses_with_one_sentence(app, gr, image, model, words):
    from PIL import Image
    _, identify = app_identify(app.demo)
    with pytest.raises(gr.Error) as e:
        identify(Image.new("RGB", (40, 30)) if image else None, model)
    assert words in e.value.message and "\n" not in e.value.message


def test_a_file_that_is_no_photo_is_an_api_error_and_a_card_on_the_page(app, gr):
    from inat.app.photo import UnusablePhoto
    _, identify = app_identify(app.demo)
    refused = UnusablePhoto("notes.jpg is not a photo this app can open: choose a JPEG, PNG, WebP or HEIC file.")
    with pytest.raises(gr.Error) as e:  # /identify: the sentence as the error
        identify(refused, "felids")
    assert e.value.message == refused.message
    shown = next(fn.fn for fn in app.demo.fns.values() if fn.name == "identify_shown")
    label, card, raw = shown(refused, "felids")  # the page: in the card, where the result would have been
    assert label is None and raw is None and card.startswith("## This file cannot be used") and refused.message in card


def test_a_model_that_cannot_load_is_one_sentence(app_env, gr, tmp_path, monkeypatch):
    import inat.app.predictors

    def broken(bundle):
        raise RuntimeError("weights gone <script>\nTraceback ...")
    monkeypatch.setattr(inat.app.predictors, "Predictor", broken)
    _, identify = app_identify(build_app(runs=[]).demo)
    from PIL import Image
    with pytest.raises(gr.Error) as e:
        identify(Image.new("RGB", (40, 30)), "scoped")
    assert e.value.message == ("The scoped model could not be loaded: choose another model (whoever runs this app "
                               "finds the reason in its log).")  # no library detail on the page (finding 5)


def test_about_handler(app):
    describe = next(fn.fn for fn in app.demo.fns.values() if fn.name == "describe")
    about, diagram, technical, summary = describe("felids")
    assert about.startswith("## felids: 4 species") and "`" not in about.split("**More species:**")[0]  # people's words first; then how to add experts
    assert "#### felids: `efficientnet_lite0`" in technical and "- `val_top1`: **50.0" in technical
    assert diagram.visible is False  # felids has no stored calibration: no diagram
    assert summary.startswith("Knows 3 animals and 1 plant.")
    about, _, technical, summary = describe("nope")
    assert about.startswith("This model cannot be read") and "nope: no such model" in technical
    path = str(Path(os.environ["INAT_WEIGHTS"]) / "felids")
    assert describe(path)[0].startswith("This model cannot be read")  # names only, never paths


def test_about_shows_a_calibrated_models_reliability_diagram(app_env):
    import shutil

    from conftest import FELID_PROBS, FELIDS, make_bundle
    bins = [{"lo": 0.3, "hi": 0.4, "n": 5, "confidence": 0.35, "accuracy": 0.4}]
    make_bundle(Path(os.environ["INAT_WEIGHTS"]) / "calibrated", probs=FELID_PROBS, classes=FELIDS,
                calibration={"temperature": 1.2, "n": 5, "ece_after": 0.05, "reliability_after": bins})
    try:
        describe = next(fn.fn for fn in build_app(runs=[]).demo.fns.values() if fn.name == "describe")
        about, diagram, _, _ = describe("calibrated")
        assert diagram.visible is True and Path(diagram.value["path"]).read_bytes()[:4] == b"\x89PNG"
        assert "Reliability diagram of calibrated" in diagram.alt_text  # the image has a name
        assert "**Can you trust its percentages?**" in about
    finally:
        shutil.rmtree(Path(os.environ["INAT_WEIGHTS"]) / "calibrated")


def test_launch_gives_the_page_its_css_and_head():
    seen = {}

    class FakeDemo:
        def launch(self, **kw):
            seen.update(kw)

    App(FakeDemo(), None, None).launch([])
    assert "#taxonomy-card" in seen["css"] and f"--run-colour: {RUN_COLOURS[0]}" in seen["css"]
    assert "window.inatExampleNames" in seen["head"] and "Example: oxeye daisies, a plant" in seen["head"]
    assert "window.inatShowResult" in seen["head"]


def test_the_result_is_brought_into_view_in_the_browser(app):
    js_only = [d for d in app.demo.config["dependencies"] if d.get("js") and "inatShowResult" in d["js"]]
    assert len(js_only) == 2  # after the Identify button and after a new photo: the result is brought into view


def test_the_starter_names_the_plant_example():
    from inat.app.views import taxon_name
    from inat.identify.predict import Predictor
    try:
        predictor = Predictor("starter")
    except Exception as e:  # the starter's weights package is not installed
        pytest.skip(f"starter not installed: {e}")
    r = predictor.predict([example_path("daisy.jpg")], k=1)[0]
    assert taxon_name(r.top.taxon) == "Oxeye daisy (Leucanthemum vulgare)" and r.top.probability > 0.9


def test_launch_flags_and_the_thread_policy(monkeypatch):
    seen = {}

    class FakeDemo:
        def launch(self, **kw):
            seen.update(kw)

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    App(FakeDemo(), None, None).launch(["--share", "--port", "7999", "--host", "0.0.0.0"], quiet=True)
    assert seen["share"] is True and seen["server_port"] == 7999 and seen["server_name"] == "0.0.0.0"
    assert seen["max_file_size"] == MAX_FILE_SIZE and seen["quiet"] is True
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"  # chosen at launch, before torch loads OpenMP
    seen.clear()
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    App(FakeDemo(), None, None).launch([])
    # No --port: Gradio itself reads GRADIO_SERVER_PORT (or picks 7860 onwards).
    assert seen["server_port"] is None and seen["share"] is None and seen["server_name"] is None
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's choice wins


# ---------------------------------------------------------------------------------------------
# The launched app, through gradio_client.

@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client
    return Client(served[0], verbose=False, download_files=False)


def test_api_identify_lion(client):
    from gradio_client import handle_file
    label, card, raw = client.predict(handle_file(sample_photo("lion.jpg")), api_name="/identify")
    assert label["label"] == "Lion (Panthera leo)"
    assert [c["label"] for c in label["confidences"]][:2] == ["Lion (Panthera leo)", "Leopard (Panthera pardus)"]
    assert card.startswith(f"## A big cat — most likely Lion, 40{NBSP}%")
    assert raw["model"] == "felids" and raw["predictions"][0]["class_id"] == 101 and raw["image"] == "photo"


def test_api_model_picker_and_out_of_scope(client):
    from gradio_client import handle_file
    label, card, raw = client.predict(handle_file(sample_photo("tower.jpg")), "scoped", api_name="/identify")
    assert label["label"].startswith("This does not look like an organism")
    assert "does not look like an organism I know" in card and raw["in_scope"] is False


def _write_png_header(path: Path, width: int, height: int) -> None:
    """A PNG that claims `width`×`height` pixels: a decompression bomb's header, without the bomb."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def test_api_bad_files_give_one_sentence_and_server_survives(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo\n")
    truncated = tmp_path / "half.jpg"
    truncated.write_bytes(Path(sample_photo("lion.jpg")).read_bytes()[:3000])
    bomb = tmp_path / "bomb.png"
    _write_png_header(bomb, 70_000, 70_000)
    for bad, words in ((text, "is not a photo this app can open"), (truncated, "is damaged or incomplete"),
                       (bomb, "is too large")):
        with pytest.raises(AppError) as err:
            client.predict(handle_file(str(bad)), api_name="/identify")
        message = str(err.value)
        assert f"{bad.name} {words}" in message and "\n" not in message.strip()
        assert "/" not in message and "Pillow" not in message  # no path, no library (finding 5)
    html_name = tmp_path / "<i>x.jpg"
    html_name.write_text("not a photo")
    with pytest.raises(AppError) as err:  # Gradio shows errors as HTML: never the uploader's raw markup
        client.predict(handle_file(str(html_name)), api_name="/identify")
    assert "x.jpg is not a photo this app can open" in str(err.value) and "<i>" not in str(err.value)
    with pytest.raises(AppError):  # only the listed model names are accepted, never paths
        client.predict(handle_file(sample_photo("lion.jpg")), "../etc", api_name="/identify")
    label, _, _ = client.predict(handle_file(sample_photo("lion.jpg")), api_name="/identify")
    assert label["label"] == "Lion (Panthera leo)"


def test_upload_over_max_file_size_is_refused(served, tmp_path):
    import httpx
    url, _ = served
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * (21 * 1024 * 1024))
    with open(big, "rb") as f:
        r = httpx.post(url + "gradio_api/upload", files={"files": ("big.jpg", f, "image/jpeg")}, timeout=60)
    assert r.status_code == 413
    assert httpx.get(url + "gradio_api/info", timeout=30).status_code == 200


def test_uploads_stay_in_gradios_temp_dir(served):
    """A hostile file name cannot place the upload elsewhere: Gradio keeps the base name only,
    inside a content-hash folder of its temp dir, and our code never writes uploads itself."""
    import httpx
    from gradio.utils import get_upload_folder
    url, _ = served
    body = Path(sample_photo("lion.jpg")).read_bytes()
    r = httpx.post(url + "gradio_api/upload", timeout=60,
                   files={"files": ("../../../../tmp/evil.jpg", body, "image/jpeg")})
    (saved,) = r.json()
    saved = Path(saved).resolve()
    assert saved.name == "evil.jpg" and not Path("/tmp/evil.jpg").exists()
    assert saved.is_relative_to(Path(get_upload_folder()).resolve())
