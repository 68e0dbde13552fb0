"""inat.naturalist.setup_metrics: naturalist's figures are those measured for the experts the user has installed."""
import json

from inat.naturalist.setup_metrics import LEGACY_EXPERTS, setup_figures, setup_key, with_setup

LEGACY = {"measured_by": "benchmarks/open_world.py", "date": "2026-12-01", "open_world": {"birds525": {"n": 1050}},
          "top1": 0.827, "top5": 0.942, "data": "birds525, 450 photos of species the bird expert knows"}


def test_a_set_up_is_named_by_its_experts_in_any_order():
    assert setup_key(["inat2017-insects", "inat2017-birds"]) == "inat2017-birds+inat2017-insects"
    assert setup_key([]) == "no experts"


def test_a_figure_measured_with_experts_the_user_lacks_is_never_theirs():
    """Issue 25 item 3: 82.7 % was measured with the bird expert and shown to users without it."""
    assert setup_figures(LEGACY, [])  == {}
    assert setup_figures(LEGACY, ["inat2017-birds"]) == {}
    mine = setup_figures(LEGACY, LEGACY_EXPERTS)
    assert mine["top1"] == 0.827 and mine["experts"] == sorted(LEGACY_EXPERTS)
    assert setup_figures({}, []) == {} and setup_figures(None, LEGACY_EXPERTS) == {}


def test_figures_per_set_up_are_read_by_set_up():
    metrics = with_setup(LEGACY, [], {"top1": 0.31, "data": "birds525"})
    assert set(metrics["setups"]) == {"no experts", "inat2017-birds+inat2017-insects"}  # the legacy entry kept
    assert setup_figures(metrics, [])["top1"] == 0.31
    assert setup_figures(metrics, reversed(LEGACY_EXPERTS))["top1"] == 0.827
    assert setup_figures(metrics, ["plants47"]) == {}
    again = with_setup(metrics, [], {"top1": 0.33})  # a rerun replaces its own set-up only
    assert setup_figures(again, [])["top1"] == 0.33 and setup_figures(again, LEGACY_EXPERTS)["top1"] == 0.827
    json.dumps(again)  # what the benchmark writes stays JSON


def test_a_file_that_names_its_experts_at_the_top_level():
    metrics = {**LEGACY, "experts": ["inat2017-birds"]}
    assert setup_figures(metrics, ["inat2017-birds"])["top1"] == 0.827
    assert setup_figures(metrics, LEGACY_EXPERTS) == {}


def test_the_shipped_file_is_read_for_the_experts_installed_here(monkeypatch, tmp_path):
    """The naturalist that hub builds carries its set-up's figures, which `models` and About both show."""
    from inat.models.registry import model_rows
    from inat.naturalist.assemble import naturalist
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path))  # no expert installed
    ens = naturalist()
    assert ens.metrics == setup_figures(json.loads((__import__("inat.models.starter", fromlist=["ASSETS"]).ASSETS /
                                                    "naturalist_metrics.json").read_text()), [])
    row = next(r for r in model_rows() if r["name"] == "naturalist")
    assert row["top1"] == ens.metrics.get("top1")
