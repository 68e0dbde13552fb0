"""inat.app.about_tab: the About tab's handler, called directly with the app's models (conftest's `catalog`).
`integration`: it answers with Gradio components."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FELID_PROBS, FELIDS, make_bundle

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def describe(gr):
    from inat.app.about_tab import describe
    return describe


def test_about_handler(describe, catalog):
    about, diagram, technical, summary = describe(catalog, "felids")
    assert about.startswith("## felids: 4 species") and "`" not in about.split("**More species:**")[0]  # people's words first; then how to add experts
    assert "#### felids: `efficientnet_lite0`" in technical and "- `val_top1`: **50.0" in technical
    assert diagram.visible is False  # felids has no stored calibration: no diagram
    assert summary.startswith("Knows 3 animals and 1 plant.")
    about, _, technical, summary = describe(catalog, "nope")
    assert about.startswith("This model cannot be read") and "nope: no such model" in technical
    path = str(Path(os.environ["INAT_WEIGHTS"]) / "felids")
    assert describe(catalog, path)[0].startswith("This model cannot be read")  # names only, never paths
    assert "no model chosen" in describe(catalog, None)[2]


def test_about_shows_a_calibrated_models_reliability_diagram(describe, catalog):
    bins = [{"lo": 0.3, "hi": 0.4, "n": 5, "confidence": 0.35, "accuracy": 0.4}]
    make_bundle(Path(os.environ["INAT_WEIGHTS"]) / "calibrated", probs=FELID_PROBS, classes=FELIDS,
                calibration={"temperature": 1.2, "n": 5, "ece_after": 0.05, "reliability_after": bins})
    try:
        about, diagram, _, _ = describe(catalog, "calibrated")
        assert diagram.visible is True and Path(diagram.value["path"]).read_bytes()[:4] == b"\x89PNG"
        assert "Reliability diagram of calibrated" in diagram.alt_text  # the image has a name
        assert "**Can you trust its percentages?**" in about
    finally:
        shutil.rmtree(Path(os.environ["INAT_WEIGHTS"]) / "calibrated")
