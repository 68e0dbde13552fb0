"""What the tests share, in one place: the fake-bundle builder, tiny datasets, ../shared, the app rig.

    make_bundle(folder, ...)        a saved bundle with a real architecture, tiny head and input size;
                                    `probs=` makes its output the same for every photo
    make_inat_dataset(root, ...)    a tiny iNat 2021 dataset in either on-disk layout
    shared("data/inat21-plants47")  a path under ../shared (data/, models/), or the test is skipped
    app_weights(root)               weights/ and runs/ folders the app's tests serve

Builders tests share with the benchmarks (bundles, datasets, photos, hostile inputs, rigs) are in inat.testing.
Fixtures: `tiny_inat`, `tiny_inat_torchvision`, `plants47`, `exported` (a tiny bundle with its ONNX
export), `gr` (gradio, loaded on demand), and per module `app_env` (INAT_WEIGHTS and INAT_RUNS on the
app's folders) and `served` (the app launched on a free loopback port).
Markers (pyproject.toml): `slow` (deselected by default), `integration` (the system end to end: Gradio's
page, a browser, a served app, `python -m inat` or a notebook in its own process, training runs, the
hostile-input and damaged-bundle sweeps; `-m "not integration"` is the quick inner loop), `shared`
(needs ../shared).
"""
from __future__ import annotations

import os
from pathlib import Path

# Spinning OpenMP threads on a busy, shared 2-core machine make small training steps 10-20× slower;
# passive waiting must be chosen before torch loads OpenMP (subprocesses inherit it too).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # tests never phone home

import pytest  # noqa: E402

from inat.testing.bundles import FELID_PROBS, FELIDS, FOLDERS, HISTORY, TAXA, app_weights, copy_bundle, make_bundle  # noqa: E402,F401
from inat.testing.datasets import SPECIES, SPLITS, make_inat_dataset  # noqa: E402,F401
from inat.testing.handlers import app_identify  # noqa: E402,F401
from inat.testing.load import free_port  # noqa: E402,F401

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


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> Path:
    """A tiny bundle folder with an up-to-date fp32 model.onnx beside it (copy it before changing it)."""
    from inat.models.bundle import load_bundle
    from inat.runtime.export import export_onnx
    folder = tmp_path_factory.mktemp("exported") / "tiny"
    make_bundle(folder)
    export_onnx(load_bundle(folder))
    return folder


# -- the app ---------------------------------------------------------------------------------------
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
