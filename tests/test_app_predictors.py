"""inat.app.predictors: one shared Predictor per model name, built once, by name only, a bounded number kept."""
import threading
import time

import pytest
from conftest import make_bundle

from inat.app.predictors import ModelCache
from inat.models.bundle import BundleError


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    for name in ("a", "b"):
        make_bundle(folder / name)
    return folder


def test_builds_once_under_concurrency_and_keeps_a_bounded_number(weights, monkeypatch):
    import inat.app.predictors
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    built = []
    real = inat.app.predictors.Predictor

    def counting(bundle, **kwargs):
        built.append(bundle.name)
        time.sleep(0.2)  # long enough for every thread to ask while the first build runs
        return real(bundle, **kwargs)

    monkeypatch.setattr(inat.app.predictors, "Predictor", counting)
    cache = ModelCache(max_models=1)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("a"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["a"] and len({id(p) for p in got}) == 1 and len(got) == 4
    assert cache.get("a") is got[0] and cache.loaded() == ["a"]
    cache.get("b")
    assert cache.loaded() == ["b"]  # bounded: the least recently used model was dropped
    cache.get("a")
    assert built == ["a", "b", "a"]


def test_names_only(weights, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    cache = ModelCache()
    for bad in (str(weights / "a"), "../a", "/etc", ".hidden", "", "c"):
        with pytest.raises(BundleError):
            cache.get(bad)
    assert cache.loaded() == []
