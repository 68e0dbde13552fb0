"""inat.app.compare: the Compare tab's runs in words, their curves, the data set and its chance level."""
import math

import pytest
from conftest import HISTORY

from inat.app.compare import (TABLE_HEADERS, chance, compare_intro, curve_note, curve_rows, epoch_axis, is_chance,
                              run_choices, run_label, runs_markdown, table_rows, thesis_markdown)
from inat.app.views import NBSP

RUNS = [{"name": "lite0_transfer_64", "arch": "efficientnet_lite0", "init": "transfer", "img_size": 64,
         "dataset": "inat21-plants47", "num_classes": 47, "history": HISTORY, "epochs": 3, "seconds": 540},
        {"name": "resnet50_scratch_64", "arch": "resnet50", "init": "scratch", "img_size": 64,
         "dataset": "inat21-plants47", "num_classes": 47, "history": HISTORY[:2], "epochs": 2}]


def test_runs_are_named_in_words_not_codes():
    assert run_label(RUNS[0]) == "EfficientNet-Lite0 · frozen · 64 px"
    assert run_label(RUNS[1]) == "ResNet-50 · from scratch · 64 px"
    assert run_label({"name": "x", "arch": "newnet", "init": "imagenet"}) == "newnet · fine-tuned"
    twins = [RUNS[0], {**RUNS[0], "name": "again"}]
    assert [label for label, _ in run_choices(twins)] == ["EfficientNet-Lite0 · frozen · 64 px (lite0_transfer_64)",
                                                          "EfficientNet-Lite0 · frozen · 64 px (again)"]
    assert run_choices(RUNS)[0] == ("EfficientNet-Lite0 · frozen · 64 px", "lite0_transfer_64")  # value: the name


def test_curves_and_the_chance_line():
    rows = curve_rows(RUNS, "top-1", "validation")
    lite = [r for r in rows if r["run"].startswith("EfficientNet")]
    assert [(r["epoch"], r["value"]) for r in lite] == [(1, 15.0), (2, 30.0), (3, 45.0)]
    chance_rows = [r for r in rows if r["run"].startswith("guessing")]
    assert chance_rows == [{"epoch": 1, "value": 2.128, "run": f"guessing at random (2.1{NBSP}%)"},
                           {"epoch": 3, "value": 2.128, "run": f"guessing at random (2.1{NBSP}%)"}]
    train = curve_rows(RUNS, "top-1", "training", ["resnet50_scratch_64"])
    assert {r["run"] for r in train} == {"ResNet-50 · from scratch · 64 px", f"guessing at random (2.1{NBSP}%)"}
    assert [r["value"] for r in train if r["run"].startswith("ResNet")] == [20.0, 40.0]
    assert all(r["run"].startswith("guessing") for r in curve_rows(RUNS, "top-5", "training"))  # no training top-5
    with pytest.raises(ValueError, match="choose one of"):
        curve_rows(RUNS, "f1")


def test_the_x_axis_names_whole_epochs_in_order():
    # On a number axis the browser ticked 1.0, 1.5, 2.0 …: as categories every tick is an epoch a run has.
    long = [{**RUNS[0], "history": [{**HISTORY[0], "epoch": e} for e in range(1, 13)]}]
    rows, order = epoch_axis(curve_rows(long, "top-1", "validation"))
    assert order == [str(e) for e in range(1, 13)]  # "10" after "9", not after "1"
    assert {r["epoch"] for r in rows} == set(order)
    assert all(isinstance(r["epoch"], str) and "." not in r["epoch"] for r in rows)
    assert epoch_axis([]) == ([], [])


def test_the_chance_line_is_named_for_the_legend():
    rows = curve_rows(RUNS, "top-1", "validation")
    assert [r["run"] for r in rows if is_chance(r["run"])] == [f"guessing at random (2.1{NBSP}%)"] * 2
    assert not any(is_chance(label) for label, _ in run_choices(RUNS))
    loss = {r["run"] for r in curve_rows(RUNS, "loss", "validation") if is_chance(r["run"])}
    assert loss == {"guessing at random (loss ln 47 = 3.85)"}


def test_chance_per_metric():
    assert chance("top-1", 47) == pytest.approx(100 / 47) and chance("top-5", 47) == pytest.approx(500 / 47)
    assert chance("loss", 47) == pytest.approx(math.log(47))


def test_an_empty_plot_says_why_and_what_to_do():
    assert curve_note(RUNS, "top-1", "validation", []) == "No run selected: tick one or more runs above to draw them."
    assert "train one" in curve_note([], "top-1", "validation", None)
    assert "choose the validation photos" in curve_note(RUNS, "top-5", "training", ["lite0_transfer_64"])
    assert curve_note(RUNS, "top-1", "validation", ["lite0_transfer_64"]) == ""


def test_the_tab_states_the_data_set_its_chance_and_the_regimes():
    text = compare_intro(RUNS, {"inat21-plants47": "47 plant species of coastal California"})
    assert "**47 plant species of coastal California (`inat21-plants47`)**" in text
    assert f"right **2.1{NBSP}%** of the time (1 in 47)" in text
    for regime in ("**fine-tuned** starts from weights learnt on ImageNet", "**frozen** starts from the same ImageNet",
                   "**from scratch** starts from random weights"):
        assert regime in text
    assert "47 classes" in compare_intro(RUNS)  # no description: the count


def test_the_thesis_is_labelled_as_another_data_set():
    text = thesis_markdown()
    assert text.startswith("### Another data set: the thesis (iNat 2021, 10,000 species)")
    assert "cannot be compared" in text and "| EfficientNetV2-S | — | 59.82 | 1.7577 |" in text


def test_the_runs_table():
    assert TABLE_HEADERS[0] == "Run" and TABLE_HEADERS[-1] == "Record"
    assert table_rows(RUNS)[0] == ["EfficientNet-Lite0 · frozen · 64 px", f"45.0{NBSP}%", 3, 3, "9 min",
                                   "lite0_transfer_64"]
    assert table_rows([{"name": "x", "history": [{"epoch": 1, "train_loss": 2.0}]}]) == [["x", "—", "—", 1, "—", "x"]]
    text = runs_markdown(RUNS)
    assert text.startswith("### Our runs, at their best epoch")
    assert f"| EfficientNet-Lite0 · frozen · 64 px | 45.0{NBSP}% | 3 | 3 | 9 min | `lite0_transfer_64` |" in text
    assert "No recorded runs yet" in runs_markdown([])


def test_run_records_carry_their_number_of_classes(tmp_path):
    import json

    from inat.training.runs import list_runs
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "bundle.json").write_text(json.dumps({"name": "r", "history": HISTORY, "classes": [{}] * 47}))
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "bundle.json").write_text(json.dumps({"name": "s", "history": HISTORY}))
    runs = {r["name"]: r for r in list_runs(tmp_path / "none", tmp_path)}
    assert runs["r"]["num_classes"] == 47 and runs["s"]["num_classes"] is None
