"""The router: its committed asset loads and answers; on real photos it routes the obvious cases, a mushroom to fungi."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inat.naturalist.router import (EXTRA_NAMES, FEATURE_DIM, JSON_FILE, WEIGHTS_FILE, Router, RouterError,
                                    starter_inputs)
from inat.naturalist.router_groups import GROUPS, group_of, starter_group_index, starter_group_masses

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def router():
    return Router.load()


def _random_inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.gamma(0.5, 0.5, (n, FEATURE_DIM)).astype(np.float32)  # non-negative, like pooled ReLU6
    logits = rng.normal(0, 3, (n, 1000))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return features, (probs / probs.sum(1, keepdims=True)).astype(np.float32)


def test_asset_loads_with_its_provenance(router):
    assert router.groups == GROUPS
    assert router.weight.shape == (len(GROUPS), FEATURE_DIM + len(EXTRA_NAMES))
    info = router.info
    for key in ("command", "date", "data", "held_out", "figures", "inputs"):
        assert info[key], key
    assert info["command"].startswith("python scripts/train_router.py")
    # the committed router meets its targets on its own held-out photos
    acc = info["figures"]["group_accuracy"]
    for name in ("plants47_val", "flowers102", "birds525", "butterflies100"):
        assert acc[name] >= 0.95, name
    scope = info["figures"]["imagenet_in_scope"]["router"]
    assert scope["recall"] >= 0.95 and scope["rejection"] >= 0.95


def test_probabilities_shape_and_sum(router):
    features, probs = _random_inputs(7)
    p = router.probabilities(features, probs)
    assert p.shape == (7, len(GROUPS))
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(router.organism_probability(features, probs), 1 - p[:, -1])
    assert router.probabilities(features[:0], probs[:0]).shape == (0, len(GROUPS))


def test_bad_shapes_are_one_line_errors(router):
    features, probs = _random_inputs(2)
    with pytest.raises(ValueError, match="features must have shape"):
        router.probabilities(features[:, :100], probs)
    with pytest.raises(ValueError, match="starter_probs must have shape"):
        router.probabilities(features, probs[:1])


def test_starter_masses_follow_the_taxonomy():
    index = starter_group_index()
    assert index[0] == GROUPS.index("other_organism")    # tench
    assert index[15] == GROUPS.index("birds")            # robin
    assert index[985] == GROUPS.index("plants")          # daisy
    assert index[309] == GROUPS.index("insects")         # bee
    assert index[500] == GROUPS.index("not_organism")    # cliff dwelling
    assert index[947] == GROUPS.index("fungi")           # mushroom: kingdom Fungi, never a plant
    assert index[997] == GROUPS.index("fungi")           # bolete
    onehot = np.zeros((1, 1000), dtype=np.float32)
    onehot[0, 985] = 1.0
    np.testing.assert_allclose(starter_group_masses(onehot), [[1, 0, 0, 0, 0, 0]])
    x = starter_inputs(onehot)
    assert x[0, 0] > 10 and x[0, 1] == pytest.approx(0, abs=1e-5) and x[0, 2] < -10  # logit scope, log masses
    assert x.shape == (1, len(EXTRA_NAMES)) == (1, len(GROUPS))
    assert group_of(None) == "not_organism" and group_of({"kingdom": "Fungi"}) == "fungi"


def test_a_mismatched_weights_file_is_refused(tmp_path):
    w, j = tmp_path / "router.safetensors", tmp_path / "router.json"
    shutil.copy(WEIGHTS_FILE, w)
    info = json.loads(JSON_FILE.read_text())
    info["weights_sha256"] = hashlib.sha256(b"other").hexdigest()
    j.write_text(json.dumps(info))
    with pytest.raises(RouterError, match="does not match"):
        Router.load(w)
    w.write_bytes(b"not a safetensors file")
    with pytest.raises(RouterError, match="unreadable router"):
        Router.load(w)


def test_the_shipped_temperature_softens_the_groups_and_keeps_their_order(router):
    assert router.calibration["method"] == "temperature" and router.calibration["temperature"] > 1
    features, probs = _random_inputs(20, seed=3)
    plain = dataclasses.replace(router, calibration={}).probabilities(features, probs)
    shipped = router.probabilities(features, probs)
    np.testing.assert_array_equal(shipped.argmax(1), plain.argmax(1))
    assert np.all(shipped.max(1) <= plain.max(1) + 1e-9) and np.any(shipped.max(1) < plain.max(1) - 1e-3)
    t = router.calibration["temperature"]
    z = router.logits(features, probs) / t
    expected = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(shipped, expected / expected.sum(1, keepdims=True), atol=1e-6)


def test_held_out_figures_know_fungi_and_calibration(router):
    figures = router.info["figures"]
    acc = figures["group_accuracy"]
    mushrooms = figures["mushrooms"]
    assert mushrooms["n"] == 105   # the others' mushrooms, each routed by a fold router that never saw its species
    assert mushrooms["routed"]["fungi"] >= 0.8 and mushrooms["routed"]["plants"] <= 0.15   # 0.41 before fungi were a group
    assert acc["others: mushrooms"] == mushrooms["routed"]["fungi"]
    c = figures["calibration"]
    assert c["temperature"] == router.calibration["temperature"]
    assert c["after"]["ece"] < c["before"]["ece"]
    assert c["after"]["wrong_mean_confidence"] < c["before"]["wrong_mean_confidence"]


@pytest.mark.parametrize("change, message", [
    ({"groups": ["plants", "birds", "insects", "other_organism", "not_organism"]}, "are not this version's"),
    ({"calibration": {"method": "temperature", "temperature": -1}}, "temperature"),
])
def test_a_router_file_from_another_version_is_refused(tmp_path, change, message):
    w, j = tmp_path / "router.safetensors", tmp_path / "router.json"
    shutil.copy(WEIGHTS_FILE, w)
    j.write_text(json.dumps({**json.loads(JSON_FILE.read_text()), **change}))
    with pytest.raises(RouterError, match=message):
        Router.load(w)


REAL_PHOTOS = {
    "birds": "birds525/photos/ABBOTTS_BABBLER/1.jpg",
    "plants": "inat21-plants47/val/05889_Plantae_Tracheophyta_Liliopsida_Asparagales_Asparagaceae_Chlorogalum_"
              "pomeridianum/292132ab-9014-52e9-a7b7-baaeda095e1a.jpg",
    "not_organism": "imagenet-samples/n02690373_airliner.JPEG",
    "fungi": "others/photos/Boletus_edulis/Boletus_edulis_1.jpg",   # a King Bolete on the forest floor (a fitting photo)
}


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
def test_real_photos_are_routed(router):
    import torch

    from inat.naturalist.router_features import extract, load_starter_model
    missing = [p for p in REAL_PHOTOS.values() if not (SHARED / p).is_file()]
    if missing:
        pytest.skip(f"missing {missing[0]}")
    torch.set_num_threads(2)
    model = load_starter_model()
    features, probs = extract([SHARED / p for p in REAL_PHOTOS.values()], model)
    predicted = [router.groups[i] for i in router.probabilities(features, probs).argmax(1)]
    assert predicted == list(REAL_PHOTOS)
    # one forward pass gives the predictor's own probabilities: logits == model(x)
    with torch.inference_mode():
        from inat.core.images import open_image
        from inat.core.preprocess import eval_transform
        from inat.models.architectures import LITE0_PREPROCESS
        x = eval_transform(LITE0_PREPROCESS)(open_image(SHARED / REAL_PHOTOS["birds"], draft_size=512))[None]
        full = torch.softmax(model(x).double(), 1).float().numpy()
    np.testing.assert_allclose(probs[:1], full, atol=1e-6)
