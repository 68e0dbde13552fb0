"""inat.training.runs: every recorded training run, from bundles and weights-less run records, and `python -m inat runs`."""
import json

import pytest
from conftest import HISTORY, REPO, make_bundle

from inat.cli.main import main
from inat.training.runs import HISTORY_KEYS, list_runs, run_record, runs_dir, valid_history


def record(folder, name, history=HISTORY, **meta):
    folder.mkdir(parents=True)
    (folder / "bundle.json").write_text(json.dumps({"format": "inat-bundle", "name": name, "arch": "resnet50",
                                                    "run": {"init": "scratch", "img_size": 64, "epochs": 5},
                                                    "history": history, **meta}))


def test_runs_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("INAT_RUNS", raising=False)
    assert runs_dir() == REPO / "runs"
    monkeypatch.setenv("INAT_RUNS", str(tmp_path))
    assert runs_dir() == tmp_path


def test_valid_history():
    assert valid_history(HISTORY) and valid_history([])
    assert tuple(HISTORY[0]) == HISTORY_KEYS
    assert not valid_history([{**HISTORY[0], "epoch": 2}])          # epochs must count 1, 2, 3...
    assert not valid_history([{**HISTORY[0], "val_top1": "high"}])  # metrics are numbers
    assert not valid_history([{**HISTORY[0], "val_top1": True}])
    assert valid_history([{**HISTORY[0], "val_top5": None}])        # a metric may be missing
    assert not valid_history({"epoch": 1}) and not valid_history([1])


def test_run_record_of_an_interrupted_run(tmp_path):
    # Planned for 5 epochs, killed after 3: the record shows what was done, the best epoch by val top-1.
    r = run_record({"name": "r", "arch": "resnet50", "run": {"init": "scratch", "epochs": 5},
                    "preprocess": {"input_size": 48}, "history": HISTORY}, tmp_path / "r" / "bundle.json")
    assert list(r) == ["name", "arch", "init", "dataset", "img_size", "epochs", "epochs_planned", "best_epoch",
                       "history", "seconds", "device", "command", "source", "num_classes"]
    assert (r["epochs"], r["epochs_planned"], r["best_epoch"], r["img_size"]) == (3, 5, 3, 48)
    assert r["seconds"] == 180.0 and r["source"] == str(tmp_path / "r" / "bundle.json")


def test_list_runs_reads_both_folders_once_per_name(tmp_path):
    weights, runs = tmp_path / "weights", tmp_path / "runs"
    make_bundle(weights / "trained", history=list(HISTORY))
    make_bundle(weights / "no_history")                        # nothing to compare: left out
    record(runs / "a_record", "a_record")
    record(runs / "trained", "trained")                         # same name as a bundle: the bundle wins
    record(runs / "empty", "empty", history=[])
    got = list_runs(weights, runs)
    assert [r["name"] for r in got] == ["trained", "a_record"]
    assert got[0]["source"] == str(weights / "trained" / "bundle.json")


@pytest.mark.parametrize("text", ["[]", "null", '"bundle"', "[" * 50_000 + "]" * 50_000,
                                  '{"format": "inat-bundle", "run": 5, "history": [1, "x"]}',
                                  '{"name": "r", "history": [{"epoch": "one", "val_top1": "x"}], "run": []}',
                                  '{"name": 5, "history": [{"epoch": 1}]}', "{broken"],
                         ids=["list", "null", "string", "nested", "run-int", "history-strings", "name-int", "broken"])
def test_hostile_run_records_are_skipped(tmp_path, text):
    # The app's Compare tab and `python -m inat runs` read every bundle.json in weights/ and runs/.
    (tmp_path / "runs" / "bad").mkdir(parents=True)
    (tmp_path / "runs" / "bad" / "bundle.json").write_text(text)
    record(tmp_path / "runs" / "good", "good")
    (tmp_path / "weights").mkdir()
    assert [r["name"] for r in list_runs(tmp_path / "weights", tmp_path / "runs")] == ["good"]


def test_the_committed_runs_are_listed(monkeypatch, tmp_path):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.delenv("INAT_RUNS", raising=False)
    names = [r["name"] for r in list_runs()]
    assert names and names == sorted(names) and all(r["history"] for r in list_runs())


def test_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("INAT_RUNS", str(tmp_path / "runs"))
    assert main(["runs"]) == 0
    assert "no recorded runs" in capsys.readouterr().out
    record(tmp_path / "runs" / "r", "r")
    assert main(["runs", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert list(line) == ["name", "arch", "init", "dataset", "img_size", "epochs", "best_epoch", "history"]
    assert main(["runs"]) == 0
    assert capsys.readouterr().out.split() == ["r", "resnet50", "scratch", "64px", "3", "epochs", "best", "val",
                                               "top-1", "45.0", "%", "(epoch", "3)"]
