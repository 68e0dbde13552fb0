"""inat.core.record: the Identification every caller adapts, and `to_json()`, one line of `predict --json`."""
import json

import numpy as np
import pytest
from conftest import FELID_PROBS, FELIDS, TAXA

from inat.core.record import Identification, Prediction, identify, top_k
from inat.core.rollup import TaxonTree

# The contract of `python -m inat predict --json`: these keys, in this order.
CONTRACT_KEYS = ["image", "model", "precision", "in_scope", "predictions", "ancestor", "error"]
PRED_KEYS = ["class_id", "probability", "scientific_name", "common_name", "rank", "taxonomy"]


@pytest.mark.parametrize("n", [3, 40, 10_000])
def test_top_k_is_a_stable_descending_sort_cut_at_k(n):
    # The predictions' order must not change with the shortcut: ties in index order, NaN last.
    rng = np.random.default_rng(n)
    for trial in range(200):
        p = rng.random(n).astype(np.float32)
        if trial % 3 == 0:
            p = (np.round(p * 8) / 8).astype(np.float32)  # many ties, also at the k-th value
        if trial % 5 == 0:
            p[rng.integers(0, n, 2)] = np.nan
        for k in (1, 3, 5, n):
            assert top_k(p, k).tolist() == np.argsort(-p, kind="stable")[:k].tolist()


def test_identify_ranks_rolls_up_and_finds_the_ancestor():
    r = identify(TaxonTree(FELIDS), np.array(FELID_PROBS), "lion.jpg", "felids", k=3)
    assert [p.taxon.scientific_name for p in r.predictions] == ["Panthera leo", "Panthera pardus", "Felis catus"]
    assert [p.index for p in r.predictions] == [0, 1, 2] and r.top is r.predictions[0]
    assert r.top.probability == pytest.approx(0.40)
    lineage = {x["rank"]: (x["name"], x["probability"]) for x in r.lineage}
    assert list(lineage) == ["kingdom", "phylum", "class", "order", "family", "genus", "species"]
    assert lineage["kingdom"] == ("Animalia", pytest.approx(0.95))
    assert lineage["genus"] == ("Panthera", pytest.approx(0.75))
    assert lineage["species"] == ("Panthera leo", pytest.approx(0.40))
    assert r.ancestor == {"rank": "genus", "name": "Panthera", "probability": pytest.approx(0.75)}
    assert r.in_scope is None and r.scope_probability is None and r.error is None


def test_scope_is_the_summed_class_probability():
    tree = TaxonTree(FELIDS)
    inside = identify(tree, np.array(FELID_PROBS) * 0.6, "a", "m", scope_threshold=0.5)
    outside = identify(tree, np.array(FELID_PROBS) * 0.1, "b", "m", scope_threshold=0.5)
    assert inside.in_scope is True and inside.scope_probability == pytest.approx(0.6)
    assert outside.in_scope is False and outside.scope_probability == pytest.approx(0.1)
    assert identify(tree, np.array(FELID_PROBS) * 0.5, "c", "m", scope_threshold=0.5).in_scope is True  # reaches it


def test_k_is_clamped_and_ties_keep_class_order():
    tree = TaxonTree(TAXA)
    assert len(identify(tree, np.full(4, 0.25), "a", "m", k=50).predictions) == 4
    assert len(identify(tree, np.full(4, 0.25), "a", "m", k=0).predictions) == 1
    assert [p.index for p in identify(tree, np.full(4, 0.25), "a", "m", k=4).predictions] == [0, 1, 2, 3]


def test_to_json_is_the_contract_in_order():
    r = identify(TaxonTree(FELIDS), np.array(FELID_PROBS), "lion.jpg", "felids", k=2)
    line = r.to_json()
    assert list(line) == CONTRACT_KEYS
    assert [list(p) for p in line["predictions"]] == [PRED_KEYS + ["taxon_id"], PRED_KEYS]  # taxon_id when known
    assert line["predictions"][0]["class_id"] == 101 and line["predictions"][0]["taxon_id"] == 41964
    assert list(line["predictions"][1]["taxonomy"]) == ["kingdom", "phylum", "class", "order", "family", "genus",
                                                       "specific_epithet"]
    assert line["ancestor"]["name"] == "Panthera"
    json.dumps(line)  # plain JSON types only (no numpy scalars)
    assert all(type(p["probability"]) is float for p in line["predictions"])


def test_to_dict_adds_what_the_app_shows():
    r = identify(TaxonTree(FELIDS), np.array(FELID_PROBS), "lion.jpg", "felids", scope_threshold=0.5)
    d = r.to_dict()
    assert list(d) == CONTRACT_KEYS + ["lineage", "in_scope_probability", "groups", "scope"]
    assert d["in_scope_probability"] == pytest.approx(1.0) and d["lineage"][-1]["name"] == "Panthera leo"
    assert d["groups"] is None and d["scope"] is None  # no router, no declared scope
    json.dumps(d)


def test_an_error_record_says_nothing_else():
    r = Identification("missing.jpg", "felids", error="missing.jpg: no such file")
    assert r.to_json() == {"image": "missing.jpg", "model": "felids", "precision": None, "in_scope": None,
                           "predictions": [], "ancestor": None, "error": "missing.jpg: no such file"}
    assert r.top is None


def test_a_combined_model_names_the_source_of_each_class():
    r = identify(TaxonTree(FELIDS), np.array(FELID_PROBS), "x", "naturalist", k=4,
                 source=lambda i: "trees" if i == 3 else "cats")
    assert [p.model for p in r.predictions] == ["cats", "cats", "cats", "trees"]
    assert r.to_json()["predictions"][3]["model"] == "trees"
    assert "model" not in Prediction(FELIDS[0], 0.5, 0).to_json()
