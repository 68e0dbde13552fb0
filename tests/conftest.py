"""What the tests share, in one place: the fake-bundle builder, tiny datasets, ../shared, the app rig.

    make_bundle(folder, ...)        a saved bundle with a real architecture, tiny head and input size;
                                    `probs=` makes its output the same for every photo
    make_inat_dataset(root, ...)    a tiny iNat 2021 dataset in either on-disk layout
    shared("data/inat21-plants47")  a path under ../shared (data/, models/), or the test is skipped
    app_weights(root)               weights/ and runs/ folders the app's tests serve

Photos (gradio's samples, generated ones, EXIF blocks) are tests/photos.py's.
Fixtures: `tiny_inat`, `tiny_inat_torchvision`, `plants47`, `exported` (a tiny bundle with its ONNX
export), `gr` (gradio, loaded on demand), and per module `app_env` (INAT_WEIGHTS and INAT_RUNS on the
app's folders) and `served` (the app launched on a free loopback port).
Markers (pyproject.toml): `slow` (deselected by default), `integration` (the system end to end: Gradio's
page, a browser, a served app, `python -m inat` or a notebook in its own process, training runs, the
hostile-input and damaged-bundle sweeps; `-m "not integration"` is the quick inner loop), `shared`
(needs ../shared).
"""
from __future__ import annotations

import functools
import json
import os
import socket
import uuid
from pathlib import Path

# Spinning OpenMP threads on a busy, shared 2-core machine make small training steps 10-20× slower;
# passive waiting must be chosen before torch loads OpenMP (subprocesses inherit it too).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # tests never phone home

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from inat.taxonomy import Taxon, parse_folder_name  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the repository (real photos and models, never in the repository); INAT_TEST_SHARED points
# elsewhere (a missing folder checks that every test needing it skips cleanly).
SHARED = Path(os.environ.get("INAT_TEST_SHARED") or REPO.parent / "shared")


def pytest_collection_modifyitems(config, items):
    """Leave `slow` tests out unless the -m expression names them: pyproject's `-m 'not slow'` is replaced by
    any -m given on the command line, and `-m "not integration"` must stay the quick loop."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def shared(relative: str) -> Path:
    """`../shared/relative` (e.g. "data/inat21-plants47"), or skip the calling test when it is absent.

    Every test that reads ../shared goes through here and carries the `shared` marker."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/{relative} (not present)")
    return path


# -- the fake bundle -------------------------------------------------------------------------------
FOLDERS = [
    "00000_Animalia_Annelida_Clitellata_Haplotaxida_Lumbricidae_Lumbricus_terrestris",
    "03111_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax",
    "03112_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_brachyrhynchos",
    "05889_Plantae_Tracheophyta_Liliopsida_Asparagales_Asparagaceae_Chlorogalum_pomeridianum",
]
TAXA = [parse_folder_name(f) for f in FOLDERS]  # the default classes of make_bundle


def _felid(class_id, sci, common, kingdom, phylum, klass, order, family, taxon_id=None):
    genus, epithet = sci.split()
    return Taxon(class_id, sci, common, "species", {
        "kingdom": kingdom, "phylum": phylum, "class": klass, "order": order, "family": family,
        "genus": genus, "specific_epithet": epithet}, taxon_id)


# The app's test classes; with FELID_PROBS every number on its card is known in advance: the top species
# is below 70 %, genus Panthera reaches 75 %, so "We're pretty sure this is in genus Panthera".
FELIDS = [
    _felid(101, "Panthera leo", "Lion", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae", 41964),
    _felid(102, "Panthera pardus", "Leopard", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _felid(103, "Felis catus", "Domestic cat", "Animalia", "Chordata", "Mammalia", "Carnivora", "Felidae"),
    _felid(200, "Quercus robur", "English oak", "Plantae", "Tracheophyta", "Magnoliopsida", "Fagales", "Fagaceae"),
]
FELID_PROBS = [0.40, 0.35, 0.20, 0.05]


def make_bundle(folder, *, arch: str = "efficientnet_lite0", classes=None, size: int = 32, seed: int = 0,
                probs=None, preprocess=None, half: bool | None = None, **fields):
    """Save a bundle with a real `arch` into `folder` and return it (its `path` set).

    Random weights (seeded) over `classes` (default TAXA) at a `size`-pixel input. With `probs`, the head's
    weights are zero and its biases log(probs): the softmax is `probs` whatever the photo, and outputs
    beyond the classes are out-of-scope ones (pass in_scope_threshold=). Weights are fp16 on disk like
    every saved bundle, fp32 when `probs` is given (so its probabilities are exact). `fields` go to Bundle.
    """
    import torch

    from inat.bundle import Bundle, save_bundle
    from inat.models import get_spec
    from inat.preprocess import Preprocess
    classes = list(TAXA if classes is None else classes)
    outputs = len(probs) if probs is not None else len(classes)
    state = dict(_random_state(arch, outputs, seed))
    if probs is not None:
        head = get_spec(arch).head
        state[f"{head}.weight"] = torch.zeros_like(state[f"{head}.weight"])
        state[f"{head}.bias"] = torch.log(torch.tensor(probs, dtype=torch.float32))
    bundle = Bundle(name=fields.pop("name", Path(folder).name), arch=arch, classes=classes,
                    preprocess=preprocess or Preprocess(input_size=size), num_outputs=outputs, **fields)
    save_bundle(bundle, folder, state, half=(probs is None) if half is None else half)
    return bundle


@functools.lru_cache(maxsize=16)
def _random_state(arch: str, outputs: int, seed: int) -> dict:
    """The state dict of a freshly made `arch` (seeded): made once per session, saved by many bundles."""
    import torch

    from inat.models import create_model
    torch.manual_seed(seed)
    return create_model(arch, outputs).state_dict()


def copy_bundle(src, dst, *, exports: bool = True) -> Path:
    """A copy of bundle folder `src` at `dst` (its ONNX exports left out unless `exports`); returns `dst`."""
    import shutil
    shutil.copytree(src, dst, ignore=None if exports else shutil.ignore_patterns("*.onnx"))
    return Path(dst)


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> Path:
    """A tiny bundle folder with an up-to-date fp32 model.onnx beside it (copy it before changing it)."""
    from inat.bundle import load_bundle
    from inat.export import export_onnx
    folder = tmp_path_factory.mktemp("exported") / "tiny"
    make_bundle(folder)
    export_onnx(load_bundle(folder))
    return folder


HISTORY = [
    {"epoch": e, "train_loss": 3.0 - 0.5 * e, "train_top1": 0.2 * e, "val_loss": 3.2 - 0.4 * e,
     "val_top1": 0.15 * e, "val_top5": 0.3 * e, "lr": 0.01, "seconds": 60.0, "images_per_s": 100.0}
    for e in (1, 2, 3)]


def app_weights(root: Path) -> tuple[Path, Path]:
    """weights/ with `felids` (the default, FELID_PROBS) and `scoped` (the felids plus one out-of-scope output
    holding 90 %), and runs/ with one weights-less run record. Returns (weights, runs)."""
    root = Path(root)
    weights, runs = root / "weights", root / "runs"
    common = dict(classes=FELIDS, run={"init": "imagenet", "dataset": "test", "img_size": 32, "epochs": 3},
                  provenance={"made_by": "tests/conftest.py"}, metrics={"val_top1": 0.5})
    make_bundle(weights / "felids", probs=FELID_PROBS, default=True, history=list(HISTORY), **common)
    make_bundle(weights / "scoped", probs=[p * 0.1 for p in FELID_PROBS] + [0.9], in_scope_threshold=0.5, **common)
    (runs / "resnet_run").mkdir(parents=True)
    (runs / "resnet_run" / "bundle.json").write_text(json.dumps({
        "format": "inat-bundle", "name": "resnet_run", "arch": "resnet50", "run": {"init": "scratch",
        "img_size": 160, "epochs": 3, "seconds": 5400}, "history": [
            {**h, "train_top1": h["train_top1"] / 3, "val_top1": h["val_top1"] / 2} for h in HISTORY]}))
    return weights, runs


# -- the app ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_identify(app):
    """(photo input, handler) of /identify on a built `app`: a photo input made as the Identify tab makes its own
    (its `preprocess` is what Gradio runs on an upload) and `identify` bound to the app's models."""
    from inat.app.identify_tab import identify, photo_input
    from inat.app.page import bind
    return photo_input(), bind(identify, app.catalog)


@pytest.fixture(scope="session")
def gr():
    """The gradio module, imported when a test asks for it (it takes seconds: the quick loop never loads it)."""
    return pytest.importorskip("gradio")


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """INAT_WEIGHTS / INAT_RUNS on `app_weights` for the whole module; yields the folder holding both."""
    root = tmp_path_factory.mktemp("app")
    weights, runs = app_weights(root)
    mp = pytest.MonkeyPatch()
    mp.setenv("INAT_WEIGHTS", str(weights))
    mp.setenv("INAT_RUNS", str(runs))
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def catalog(app_env):
    """The app's models on `app_weights` (`inat.app.catalog.Catalog`): what the page's handlers take first."""
    from inat.app.catalog import Catalog
    return Catalog.read()


@pytest.fixture(scope="module")
def served(app_env):
    """The app launched in this process on a free loopback port: (url, App)."""
    from inat.app import build_app
    app = build_app()
    port = free_port()
    app.launch(["--port", str(port), "--host", "127.0.0.1"], prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", app
    app.demo.close()


# -- tiny iNat 2021 datasets -------------------------------------------------------------------------
# (id, folder-name taxonomy, common name, RGB colour of its photos)
SPECIES = [
    (143, "Animalia_Arthropoda_Insecta_Lepidoptera_Nymphalidae_Danaus_plexippus", "Monarch", (230, 120, 20)),
    (2780, "Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax", "Common Raven", (20, 20, 30)),
    (5411, "Fungi_Basidiomycota_Agaricomycetes_Agaricales_Amanitaceae_Amanita_muscaria", "Fly Agaric", (200, 30, 30)),
    (9947, "Plantae_Tracheophyta_Magnoliopsida_Rosales_Rosaceae_Rosa_californica", "California Wild Rose",
     (230, 150, 200)),
]
RANK_KEYS = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")
# split → (official folder, torchvision folder, photos per species)
SPLITS = {"train_mini": ("train_mini", "2021_train_mini", 6), "val": ("val", "2021_valid", 3)}


def _photo(colour, rng, size):
    from PIL import Image
    w, h = size
    base = np.array(colour, dtype=np.float32)
    pixels = base + rng.normal(0, 25, (h, w, 3))
    pixels[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = 255 - base  # a centred "subject"
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def make_inat_dataset(root, layout: str = "official", species=SPECIES, splits=SPLITS, seed: int = 0) -> Path:
    """Write a tiny iNat 2021 dataset under `root` and return `root`.

    A few JPEGs per species, sparse category ids, real-looking folder names spanning three kingdoms, each
    species its own colour (so even a one-epoch model learns a bit). layout "official": `train_mini/`,
    `val/` with `train_mini.json`, `val.json` (file_name relative to root); "torchvision":
    `2021_train_mini/`, `2021_valid/` folders only.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    categories = []
    for cid, names, common, _ in species:
        ranks = names.split("_")
        categories.append({"id": cid, "name": f"{ranks[5]} {ranks[6]}", "common_name": common,
                           "supercategory": ranks[0], **dict(zip(RANK_KEYS, ranks)),
                           "image_dir_name": f"{cid:05d}_{names}"})
    image_id = 0
    for split, (official, tv_folder, per_species) in splits.items():
        images, annotations = [], []
        for (_, _, _, colour), cat in zip(species, categories):
            folder = root / (official if layout == "official" else tv_folder) / cat["image_dir_name"]
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(per_species):
                size = (int(rng.integers(40, 80)), int(rng.integers(40, 80)))
                name = f"{uuid.UUID(int=int(rng.integers(0, 2**62)))}.jpg"
                _photo(colour, rng, size).save(folder / name, quality=90)
                images.append({"id": image_id, "width": size[0], "height": size[1],
                               "file_name": f"{official}/{cat['image_dir_name']}/{name}"})
                annotations.append({"id": image_id, "image_id": image_id, "category_id": cat["id"]})
                image_id += 1
        if layout == "official":
            ann = {"info": {"description": f"synthetic iNat 2021-format test set, split {split}"},
                   "images": images, "annotations": annotations, "categories": categories}
            (root / f"{split}.json").write_text(json.dumps(ann), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tiny_inat(tmp_path_factory) -> Path:
    """A tiny dataset in the official release layout (4 species, 6 train + 3 val photos each)."""
    return make_inat_dataset(tmp_path_factory.mktemp("inat_official"), "official")


@pytest.fixture(scope="session")
def tiny_inat_torchvision(tmp_path_factory) -> Path:
    """The same species in torchvision's layout (`2021_train_mini/`, `2021_valid/`, no JSON)."""
    return make_inat_dataset(tmp_path_factory.mktemp("inat_torchvision"), "torchvision")


@pytest.fixture(scope="session")
def plants47() -> Path:
    """The real 47-species dataset in ../shared/data; tests using it skip when it is absent."""
    path = shared("data/inat21-plants47")
    if not (path / "val.json").is_file():
        pytest.skip("../shared/data/inat21-plants47 has no val.json")
    return path
