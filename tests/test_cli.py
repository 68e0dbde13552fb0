"""The `python -m inat` contracts, run as a user would: in a subprocess."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from util import TAXA, gradio_photo, make_bundle

REPO = Path(__file__).resolve().parents[1]


def inat(*args, env=None):
    return subprocess.run([sys.executable, "-m", "inat", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    make_bundle(folder / "tiny", metrics={"val_top1": 0.25})
    return folder


def test_help_for_every_command():
    r = inat("--help")
    assert r.returncode == 0
    for cmd in ("predict", "import", "labels", "models"):
        assert cmd in r.stdout
        h = inat(cmd, "--help")
        assert h.returncode == 0 and "usage:" in h.stdout


def test_predict_json_one_line_per_input_in_order(weights, tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    lion = gradio_photo("lion.jpg")
    inputs = [lion, str(tmp_path / "missing.jpg"), str(tmp_path / "notes.jpg"), str(tmp_path), lion]
    r = inat("predict", *inputs, "--model", str(weights / "tiny"), "--top", "2", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    assert [l["image"] for l in lines] == inputs
    assert [bool(l["error"]) for l in lines] == [False, True, True, True, False]
    assert len(lines[0]["predictions"]) == 2 and lines[0]["model"] == "tiny"
    assert lines[0]["predictions"] == lines[4]["predictions"]


def test_predict_exit_zero_and_table(weights):
    r = inat("predict", gradio_photo("cheetah.jpg"), "--model", "tiny", env={"INAT_WEIGHTS": str(weights)})
    assert r.returncode == 0, r.stderr
    assert "cheetah.jpg" in r.stdout and " %" in r.stdout


def test_bad_model_is_one_line(tmp_path):
    r = inat("predict", gradio_photo("lion.jpg"), "--model", str(tmp_path / "nope"), "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["error"].startswith("model not loaded")


def test_labels_and_models(weights):
    env = {"INAT_WEIGHTS": str(weights)}
    r = inat("labels", "--model", "tiny", "--json", env=env)
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    assert [x["class_id"] for x in rows] == [t.class_id for t in TAXA]
    assert set(rows[0]) == {"class_id", "scientific_name", "common_name", "rank", "taxonomy"}
    r = inat("models", "--json", env=env)
    models = {m["name"]: m for m in map(json.loads, r.stdout.splitlines())}
    assert models["tiny"]["classes"] == len(TAXA) and models["tiny"]["val_top1"] == 0.25
    assert models["starter"]["builtin"] and models["starter"]["default"]


# ---------------------------------------------------------------------------------------------
# The built-in starter through the command line (needs assets/starter_taxonomy.tsv, in the repo).

def test_starter_names_lion_and_cheetah_and_rejects_the_tower():
    photos = [gradio_photo(n) for n in ("lion.jpg", "cheetah.jpg", "tower.jpg")]
    r = inat("predict", *photos, "--model", "starter", "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    lion, cheetah, tower = map(json.loads, r.stdout.splitlines())
    assert lion["predictions"][0]["scientific_name"] == "Panthera leo" and lion["in_scope"] is True
    assert cheetah["predictions"][0]["scientific_name"] == "Acinonyx jubatus" and cheetah["in_scope"] is True
    assert cheetah["predictions"][0]["taxonomy"]["family"] == "Felidae"
    assert tower["in_scope"] is False and tower["model"] == "starter"


def test_starter_labels_are_exactly_the_imagenet_organism_classes():
    r = inat("labels", "--model", "starter", "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    organisms = [*range(0, 398), *range(936, 958), *range(984, 999)]  # decisions: assets/STARTER_CLASSES.md
    assert [x["class_id"] for x in rows] == organisms
    by_id = {x["class_id"]: x for x in rows}
    assert (by_id[286]["scientific_name"], by_id[286]["taxonomy"]["genus"]) == ("Puma concolor", "Puma")  # cougar
    assert (by_id[340]["rank"], by_id[340]["scientific_name"]) == ("genus", "Equus")  # zebra
    assert all(set(x["taxonomy"]) == {"kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet"}
               for x in rows)


def test_labels_piped_into_head_ends_quietly():
    r = subprocess.run(f"{sys.executable} -m inat labels --model starter --json | head -1", shell=True,
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert len(r.stdout.splitlines()) == 1 and r.stderr == ""
