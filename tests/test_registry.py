"""inat.models.registry: where models are and how they are found by name (the weights folder, built-ins, the default)."""
import pytest
from conftest import REPO, make_bundle

from inat.models.bundle import BundleError
from inat.models.registry import BUILTINS, default_model, list_bundles, model_names, model_rows, resolve, weights_dir
from inat.models.starter import NAME as STARTER
from inat.naturalist.ensemble import NAME as NATURALIST


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A weights folder with alpha, beta (the default, measured) and an unreadable bundle."""
    folder = tmp_path_factory.mktemp("weights")
    make_bundle(folder / "alpha")
    make_bundle(folder / "beta", default=True, metrics={"val_top1": 0.25})
    (folder / "broken").mkdir()
    (folder / "broken" / "bundle.json").write_text("{")
    return folder


@pytest.fixture
def weights(folder, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(folder))
    return folder


def test_weights_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("INAT_WEIGHTS", raising=False)
    assert weights_dir() == REPO / "weights"
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path))
    assert weights_dir() == tmp_path


def test_names_list_and_default(weights):
    assert [b.name for b in list_bundles()] == ["alpha", "beta"]  # the broken one is skipped
    assert model_names() == [*BUILTINS, "alpha", "beta"] and STARTER in BUILTINS
    assert default_model() == "beta"  # a name, never a path


def test_the_default_is_naturalist_without_a_marked_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "missing"))
    assert list_bundles() == [] and default_model() == NATURALIST
    make_bundle(tmp_path / "w" / "only")
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "w"))
    assert default_model() == NATURALIST


def test_resolve_names_paths_and_the_default(weights):
    assert resolve("alpha").path == weights / "alpha"
    assert resolve().name == "beta" and resolve(None).path == weights / "beta"
    assert resolve(str(weights / "alpha")).path == weights / "alpha"  # a path
    assert resolve(weights / "alpha").path == weights / "alpha"      # a PathLike
    assert resolve(STARTER).name == STARTER and resolve(STARTER).path is None
    with pytest.raises(BundleError, match="gamma: no such model; available: naturalist, starter, alpha, beta \\(or a bundle"):
        resolve("gamma")


def test_names_only_never_opens_a_path(weights):
    # The app takes model names from requests: nothing but a listed name may open a file.
    assert resolve("alpha", names_only=True).path == weights / "alpha"
    for bad in (str(weights / "alpha"), "../alpha", "./alpha", ".hidden", "", "alpha/", "a\\b", "broken"):
        with pytest.raises(BundleError) as e:
            resolve(bad, names_only=True)
        assert "(or a bundle folder path)" not in str(e.value)


def test_model_rows(weights):
    rows = model_rows()
    assert [r["name"] for r in rows] == [*BUILTINS, "alpha", "beta"]
    starter, alpha, beta = rows[list(BUILTINS).index(STARTER)], rows[-2], rows[-1]
    # the contract's keys first, in order; then what the picker shows (species, measured top-1, expert)
    assert list(alpha) == ["name", "path", "builtin", "arch", "classes", "default", "val_top1",
                           "species", "top1", "measured_on", "expert", "unmeasured"]
    assert starter["builtin"] and starter["path"] is None and not starter["default"]
    assert alpha == {"name": "alpha", "path": str(weights / "alpha"), "builtin": False, "arch": "efficientnet_lite0",
                     "classes": 4, "default": False, "val_top1": None, "species": 4, "top1": None,
                     "measured_on": None, "expert": False, "unmeasured": []}
    assert beta["default"] and beta["val_top1"] == 0.25


def test_a_broken_builtin_is_left_out_of_the_rows(weights, monkeypatch):
    import inat.models.registry

    def missing():
        raise FileNotFoundError("starter_taxonomy.tsv")
    monkeypatch.setitem(inat.models.registry.BUILTINS, STARTER, missing)
    assert [r["name"] for r in model_rows()] == [n for n in BUILTINS if n != STARTER] + ["alpha", "beta"]


# -- built-ins register themselves ----------------------------------------------------------------------
def test_the_registry_knows_no_model():
    # Its code imports no model and names none: the starter and naturalist register from their own modules.
    import ast

    from inat.models import registry
    tree = ast.parse(open(registry.__file__, encoding="utf-8").read())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "os", "pathlib", "typing", "core.paths", "core.taxonomy", "bundle"}
    code = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not any(s in (STARTER, NATURALIST) for s in code)
    assert list(BUILTINS) == [NATURALIST, STARTER]   # naturalist registered itself as the default


def test_a_new_builtin_registers_and_can_take_the_default(weights, tmp_path, monkeypatch):
    from inat.models import registry
    monkeypatch.setattr(registry, "BUILTINS", dict(registry.BUILTINS))
    monkeypatch.setattr(registry, "_DEFAULT", list(registry._DEFAULT))
    mine = make_bundle(tmp_path / "mine")
    registry.register("mine", lambda: mine)
    assert registry.model_names()[:3] == [NATURALIST, STARTER, "mine"] and registry.resolve("mine") is mine
    assert registry.default_model() == "beta"   # a bundle marked default still wins over any built-in
    monkeypatch.delenv("INAT_WEIGHTS")
    monkeypatch.setattr(registry, "weights_dir", lambda: tmp_path / "empty")
    assert registry.default_model() == NATURALIST
    registry.register("mine", lambda: mine, default=True)
    assert list(registry.BUILTINS)[0] == "mine" and registry.default_model() == "mine" and registry.resolve() is mine
