"""inat.app.layout: the page's components and wiring on a real Gradio page, then the launched app through
gradio_client. All `integration` (Gradio itself takes seconds to load; the pure views are test_app_views.py, the
handlers test_app_*_tab.py, called directly).

The app serves conftest's `felids` (the default; Lion 40 %, genus Panthera 75 % whatever the photo) and
`scoped` (90 % on an out-of-scope output), so every answer is known in advance.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from inat.app.launch import App
from inat.app.layout import CONCURRENCY_LIMIT, QUEUE_SIZE, build_app
from inat.app.views import NBSP
from inat.testing.photos import sample_photo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(app_env, gr) -> App:
    return build_app(runs=[])


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


def test_the_result_is_brought_into_view_in_the_browser(app):
    js_only = [d for d in app.demo.config["dependencies"] if d.get("js") and "inatShowResult" in d["js"]]
    assert len(js_only) == 2  # after the Identify button and after a new photo: the result is brought into view


def test_the_tabs_in_their_order(app):
    tabs = [c["props"]["label"] for c in app.demo.config["components"] if c["type"] == "tabitem"]
    assert tabs == ["Identify", "Observations", "Compare", "About"]


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
