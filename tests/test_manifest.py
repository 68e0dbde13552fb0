"""inat.naturalist.manifest: naturalist's parameters from one manifest, checked; a bad part is a visible downgrade."""
from __future__ import annotations

import json
import logging
import shutil

import pytest

from inat.naturalist.manifest import (ASSETS, DEFAULT_GATE, NO_TRUST, ManifestError, check_gates, check_priors,
                                      load_parameters)
from inat.naturalist.router_groups import GROUPS

PARTS = ("naturalist.json", "expert_gates.json", "naturalist_priors.json", "naturalist_metrics.json")


@pytest.fixture
def assets(tmp_path):
    for name in PARTS:
        shutil.copy(ASSETS / name, tmp_path / name)
    return tmp_path


def test_the_shipped_manifest_reads_whole(caplog):
    with caplog.at_level(logging.WARNING, logger="inat"):
        p = load_parameters()
    assert p.downgraded == [] and not caplog.records
    assert {"inat2017-birds", "inat2017-insects", "plants47"} <= set(p.gates) and len(p.starter_gate["weights"]) == 4
    assert set(p.alpha) <= set(GROUPS) and len(p.coverage) == 435 and p.metrics["measured_by"]


@pytest.mark.parametrize("part, damage", [("expert_gates.json", "delete"), ("expert_gates.json", "garbage"),
                                          ("naturalist_priors.json", "delete"), ("naturalist.json", "delete")])
def test_a_missing_or_unreadable_part_is_a_logged_downgrade_never_a_silent_one(assets, part, damage, caplog):
    if damage == "delete":
        (assets / part).unlink()
    else:
        (assets / part).write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="inat"):
        p = load_parameters(assets)
    assert len(p.downgraded) == 1 and str(assets / part) in p.downgraded[0]
    assert [r.getMessage() for r in caplog.records] == [f"naturalist runs downgraded: {p.downgraded[0]}"]
    if part != "naturalist_priors.json":
        assert p.gates == {} and p.starter_gate == {}     # experts: the default gate; the starter: no trust
    assert p.alpha == {g: NO_TRUST for g in GROUPS} or part == "expert_gates.json"


def test_malformed_gates_and_priors_are_refused_in_one_line():
    with pytest.raises(ManifestError, match=r"gates.x.b must be a number"):
        check_gates({"gates": {"x": {"a": 1.0, "b": "high"}}})
    with pytest.raises(ManifestError, match="starter.weights must be 3 or 4 numbers"):
        check_gates({"gates": {}, "starter": {"weights": [1, 2], "groups": ["birds"]}})
    with pytest.raises(ManifestError, match="does not have: reptiles"):
        check_gates({"starter": {"weights": [1, 2, 3], "groups": ["reptiles"]}})
    with pytest.raises(ManifestError, match=r"alpha.plants must be a number in \[0.0, 1.0\]"):
        check_priors({"alpha": {"plants": 1.5}, "coverage": {"1": 0.1}})
    assert check_gates({"gates": {"x": {"a": -1, "b": 0.5}}}) == ({"x": (-1.0, 0.5)}, {})


def test_a_naturalist_without_gates_runs_its_experts_on_the_default_gate(assets, monkeypatch):
    from inat.naturalist import assemble
    (assets / "expert_gates.json").write_text(json.dumps({"gates": {}}), encoding="utf-8")
    monkeypatch.setattr(assemble, "load_parameters", lambda: load_parameters(assets))
    e = assemble.naturalist()
    assert e.downgraded == [] and e.mixture().starter_gated == set()
    assert all(g == DEFAULT_GATE for g in e.gates.values()) and e.unmeasured == [b.name for b in e.experts.values()]
