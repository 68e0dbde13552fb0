"""inat.training.calibration: temperature scaling fitted on labelled photos, and the figures that judge it."""
import json

import numpy as np
import pytest
from conftest import make_bundle
from PIL import Image

from inat.cli.main import main
from inat.core.probability import softmax
from inat.models.bundle import load_bundle
from inat.runtime.engine import Engine
from inat.training.calibration import (T_RANGE, calibrate, calibration_record, ece_floor, expected_calibration_error,
                                       fit_beta, fit_temperature, labelled_targets, nll, reliability, save_calibration)
from inat.training.data import split_taxa


def test_expected_calibration_error_by_hand():
    # Bins of width 1/15: 0.9 and 0.9 share one (accuracy 1/2), 0.2 and 0.0 sit alone.
    ece = expected_calibration_error([0.9, 0.9, 0.2, 0.0], [1, 0, 0, 1])
    assert ece == pytest.approx(2 / 4 * 0.4 + 1 / 4 * 0.2 + 1 / 4 * 1.0)
    assert expected_calibration_error([], []) == 0.0
    assert expected_calibration_error([1.0, 1.0], [1, 1]) == 0.0


def test_reliability_lists_the_bins_that_hold_photos():
    bins = reliability([0.95, 0.91, 0.5, 0.0], [1, 0, 1, 0])
    assert [(round(b["lo"], 4), round(b["hi"], 4), b["n"]) for b in bins] == \
        [(0.0, round(1 / 15, 4), 1), (round(7 / 15, 4), round(8 / 15, 4), 1), (round(13 / 15, 4), round(14 / 15, 4), 1),
         (round(14 / 15, 4), 1.0, 1)]
    assert bins[-1]["confidence"] == pytest.approx(0.95) and bins[-1]["accuracy"] == 1.0


def test_nll_by_hand():
    logits = np.array([[0.0, np.log(3.0)], [np.log(4.0), 0.0]])
    assert nll(logits, np.array([1, 1]), 1.0) == pytest.approx(-(np.log(0.75) + np.log(0.2)) / 2)
    # Dividing by T flattens: at T = 2 the first photo's true class has sqrt(3) / (1 + sqrt(3)).
    assert nll(logits[:1], np.array([1]), 2.0) == pytest.approx(-np.log(np.sqrt(3) / (1 + np.sqrt(3))))


def overconfident(n=3000, classes=6, t_true=2.5, seed=0):
    """Logits whose labels are drawn from softmax(logits / t_true): a model over-confident by t_true."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (n, classes))
    p = softmax(logits / t_true).astype(np.float64)
    targets = np.array([rng.choice(classes, p=row / row.sum()) for row in p])
    return logits, targets


def test_the_fitted_temperature_is_the_one_the_labels_were_drawn_with():
    logits, targets = overconfident()
    t = fit_temperature(logits, targets)
    assert t == pytest.approx(2.5, rel=0.08)
    assert nll(logits, targets, t) < min(nll(logits, targets, 1.0), nll(logits, targets, 4.0))
    assert T_RANGE[0] <= fit_temperature(logits[:3] * 0, targets[:3]) <= T_RANGE[1]  # no information: stays in range


def test_the_record_keeps_top1_and_lowers_the_error():
    logits, targets = overconfident()
    index = np.arange(logits.shape[1])
    r = calibration_record(logits, targets, index)
    assert r["method"] == "temperature" and r["n"] == len(targets) and len(r["fold_temperatures"]) == 2
    assert set(r["ece_cross_fitted_by_method"]) == {"temperature", "beta"} and r["cross_fit_halvings"] == 10
    assert r["ece_cross_fitted"] == r["ece_cross_fitted_by_method"]["temperature"]
    assert r["top1"] == pytest.approx(float((logits.argmax(1) == targets).mean()))  # the ranking does not change
    assert r["ece_after"] < r["ece_before"] / 2 and r["ece_cross_fitted"] < r["ece_before"] / 2
    assert sum(b["n"] for b in r["reliability_before"]) == sum(b["n"] for b in r["reliability_after"]) == len(targets)
    json.dumps(r)


def shy_in_the_middle(n=4000, seed=1):
    """Top probabilities whose truth follows a known beta map: sigmoid(0.8 ln p − 0.5 ln(1 − p) + 0.6)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.5, (n, 5))
    probs = softmax(logits).astype(np.float64)
    top = probs.max(axis=1)
    true_top = 1 / (1 + np.exp(-(0.8 * np.log(top) - 0.5 * np.log1p(-np.minimum(top, 1 - 1e-7)) + 0.6)))
    hit = rng.random(n) < true_top
    other = (probs.argmax(axis=1) + 1 + rng.integers(0, 4, n)) % 5
    return logits, np.where(hit, probs.argmax(axis=1), other)


def test_fit_beta_recovers_the_map_the_labels_were_drawn_with():
    logits, targets = shy_in_the_middle()
    beta = fit_beta(softmax(logits), targets)
    assert beta["a"] == pytest.approx(0.8, abs=0.15) and beta["b"] == pytest.approx(0.5, abs=0.15)
    assert beta["c"] == pytest.approx(0.6, abs=0.3)


def test_beta_beats_a_temperature_where_one_number_cannot_follow_the_errors():
    logits, targets = shy_in_the_middle()
    index = np.arange(logits.shape[1])
    r = calibration_record(logits, targets, index, method="beta", repeats=3)
    assert r["method"] == "beta" and set(r["beta"]) == {"a", "b", "c"}
    by = r["ece_cross_fitted_by_method"]
    assert by["beta"] < by["temperature"] and r["ece_cross_fitted"] == by["beta"]
    assert r["top1"] == pytest.approx(float((logits.argmax(1) == targets).mean()))


@pytest.fixture(scope="module")
def bundle(tiny_inat, tmp_path_factory):
    """A tiny bundle over the tiny dataset's four species (by category id)."""
    folder = tmp_path_factory.mktemp("cal") / "tiny"
    make_bundle(folder, classes=split_taxa(tiny_inat, "train_mini"))
    return folder


def test_labelled_targets_by_category_id_and_by_labels_csv(bundle, tiny_inat, tmp_path):
    b = load_bundle(bundle)
    pairs = labelled_targets(b, tiny_inat, "val")
    assert len(pairs) == 12 and {t for _, t in pairs} == {0, 1, 2, 3}
    assert all(p.parent.name.startswith(f"{b.classes[t].class_id:05d}_") for p, t in pairs)
    (tmp_path / "labels.csv").write_text("file,common_name,scientific_name,kingdom\n"
                                         "a.jpg,Monarch,Danaus plexippus,Animalia\nb.jpg,Tower,,\n"
                                         "c.jpg,Rose,Rosa californica,Plantae\n")
    assert [(p.name, t) for p, t in labelled_targets(b, tmp_path, "val")] == [("a.jpg", 0), ("c.jpg", 3)]
    (tmp_path / "labels.csv").write_text("file,class_id\na.jpg,9947\nb.jpg,1\n")
    assert [(p.name, t) for p, t in labelled_targets(b, tmp_path, "val")] == [("a.jpg", 3)]


def test_labelled_targets_by_common_name_through_a_names_file(bundle, tmp_path):
    b = load_bundle(bundle)
    (tmp_path / "labels.csv").write_text("file,common_name,scientific_name\n"
                                         "a.jpg,MONARCH,\nb.jpg,Rose,Rosa wrongname\n")
    assert labelled_targets(b, tmp_path, "val") == []
    names = {"MONARCH": "Danaus plexippus", "Rose": "Rosa californica"}
    assert [(p.name, t) for p, t in labelled_targets(b, tmp_path, "val", names)] == [("a.jpg", 0), ("b.jpg", 3)]


def test_too_few_photos_is_a_clear_error(bundle, tiny_inat):
    with pytest.raises(ValueError, match="only 12 photos of classes tiny knows; calibration needs at least 20"):
        calibrate(load_bundle(bundle), tiny_inat, "val")


def test_a_stored_temperature_divides_the_logits(tmp_path):
    b = make_bundle(tmp_path / "m", probs=[0.7, 0.2, 0.05, 0.05])
    x = Engine(b).inputs([Image.new("RGB", (40, 40))])
    save_calibration(tmp_path / "m", {"method": "temperature", "temperature": 2.0})
    calibrated = load_bundle(tmp_path / "m")
    assert calibrated.temperature == 2.0 and b.temperature == 1.0
    want = softmax(np.log([[0.7, 0.2, 0.05, 0.05]]) / 2.0)
    np.testing.assert_allclose(Engine(calibrated).probabilities(x), want, atol=1e-5)


def test_command_dry_run_and_store(bundle, tiny_inat, tmp_path, capsys):
    import shutil
    folder = tmp_path / "b"
    shutil.copytree(bundle, folder)
    argv = ["calibrate", "--model", str(folder), "--data", str(tiny_inat), "--split", "train_mini"]
    assert main(argv + ["--dry-run", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n"] == 24 and T_RANGE[0] <= r["temperature"] <= T_RANGE[1] and r["split"] == "train_mini"
    assert load_bundle(folder).calibration == {}  # a dry run stores nothing
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"stored in {folder / 'bundle.json'}" in out and "cross-fitted" in out
    stored = load_bundle(folder).calibration
    assert stored["temperature"] == r["temperature"] and stored["command"].startswith("python -m inat calibrate")


def test_a_stored_beta_map_is_what_the_engine_applies(tmp_path):
    from inat.core.probability import top_label_beta
    b = make_bundle(tmp_path / "m", probs=[0.5, 0.3, 0.15, 0.05])
    x = Engine(b).inputs([Image.new("RGB", (40, 40))])
    beta = {"a": 1.0, "b": 0.5, "c": 0.4}
    save_calibration(tmp_path / "m", {"method": "beta", "temperature": 1.5, "beta": beta})
    got = Engine(load_bundle(tmp_path / "m")).probabilities(x)
    want = top_label_beta(softmax(np.log([[0.5, 0.3, 0.15, 0.05]]) / 1.5), beta)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got[0, 0] > softmax(np.log([[0.5, 0.3, 0.15, 0.05]]) / 1.5)[0, 0]  # this map raises a shy top


def test_command_method_beta_is_stored(bundle, tiny_inat, tmp_path, capsys):
    import shutil
    folder = tmp_path / "b"
    shutil.copytree(bundle, folder)
    assert main(["calibrate", "--model", str(folder), "--data", str(tiny_inat), "--split", "train_mini",
                 "--method", "beta"]) == 0
    assert "cross-fitted ECE by method: temperature" in capsys.readouterr().out
    stored = load_bundle(folder).calibration
    assert stored["method"] == "beta" and set(stored["beta"]) == {"a", "b", "c"} and stored["beta"]["a"] >= 0


def test_the_ece_floor_is_what_a_perfectly_calibrated_model_shows():
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.3, 1.0, 400)
    floor = ece_floor(conf)
    assert 0 < floor["p5"] <= floor["mean"] <= floor["p95"] < 0.1
    honest = [expected_calibration_error(conf, rng.random(400) < conf) for _ in range(50)]
    assert floor["p5"] <= float(np.median(honest)) <= floor["p95"]
    assert expected_calibration_error(conf, np.zeros(400)) > floor["p95"]   # a model always wrong is far above it
    assert ece_floor(np.ones(50)) == {"mean": 0.0, "p5": 0.0, "p95": 0.0}  # sure and right: no noise
