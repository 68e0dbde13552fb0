"""`python -m inat`: the command-line contracts. In-process `main()`, and `python -m inat` in its own process
where the user's view matters (exit status, stdout/stderr, a pipe: `integration`). The commands other
modules add are tested with those modules."""
import json
import os
import subprocess
import sys

import pytest
from conftest import FELID_PROBS, FELIDS, REPO, TAXA, copy_bundle

from inat.cli.main import format_identification, main
from inat.core.record import Identification
from inat.runtime import openvino_backend
from inat.testing.photos import sample_photo

CONTRACT_KEYS = ["image", "model", "precision", "in_scope", "predictions", "ancestor", "error"]
PRED_KEYS = ["class_id", "probability", "scientific_name", "common_name", "rank", "taxonomy"]
ORGANISMS = [*range(0, 398), *range(936, 958), *range(984, 999)]  # the starter's classes: assets/STARTER_CLASSES.md


def inat(*args, env=None):
    return subprocess.run([sys.executable, "-m", "inat", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def weights(exported, tmp_path_factory):
    """A weights folder holding `tiny` (with its ONNX export) and nothing marked default: a copy, since predict
    makes the fast version the default precision runs (the bf16 IR on a CPU with native bf16) beside it."""
    folder = tmp_path_factory.mktemp("cli_weights")
    copy_bundle(exported, folder / "tiny")
    return folder


def test_help_for_every_command(capsys):
    commands = ("predict", "import", "labels", "models", "train", "evaluate", "calibrate", "runs", "dataset-report",
                "export")
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in commands)
    for cmd in commands:
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0 and capsys.readouterr().out.startswith(f"usage: python -m inat {cmd}")


def test_start_up_loads_no_heavy_library():
    # The whole package, the CLI, the app's views and the Lite0 weights' module: torch, gradio, onnxruntime and
    # matplotlib load only when a model, the page or a figure is wanted.
    code = "import sys, inat, inat.cli.main, inat.app, inat.app.views, inat.app.about, inat.app.compare, inat.models.lite0; " \
           "print(sorted(m for m in (" \
           "'torch', 'gradio', 'onnxruntime', 'polars', 'matplotlib', 'openvino', 'nncf') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=REPO).stdout == "[]\n"


@pytest.mark.integration
def test_predict_json_one_line_per_input_in_order(weights, tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    (tmp_path / "empty").mkdir()
    lion = sample_photo("lion.jpg")
    inputs = [lion, str(tmp_path / "missing.jpg"), str(tmp_path / "notes.jpg"), str(tmp_path / "empty"), lion]
    r = inat("predict", *inputs, "--model", str(weights / "tiny"), "--top", "2", "--json")
    # Nothing on stderr but, the first time on a CPU whose default needs a file not made yet, the one line saying so.
    assert r.returncode == 1 and r.stderr in ("", PREPARING.format("tiny") + "\n")
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [list(line) for line in lines] == [CONTRACT_KEYS] * 5
    assert [line["image"] for line in lines] == inputs
    assert [bool(line["error"]) for line in lines] == [False, True, True, True, False]
    assert [list(p) for p in lines[0]["predictions"]] == [PRED_KEYS] * 2 and lines[0]["model"] == "tiny"
    assert lines[0]["predictions"] == lines[4]["predictions"]
    assert all(line["predictions"] == [] and "\n" not in line["error"] for line in lines[1:4])


def test_predict_table_exit_zero(weights, capsys, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    assert main(["predict", sample_photo("cheetah.jpg"), "--model", "tiny"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{sample_photo('cheetah.jpg')}  (model: tiny)\n  1. ") and " %  " in out


def test_predict_exact_runs_pytorch_and_keeps_the_contract(weights, monkeypatch, capsys):
    import inat.cli.main
    made = []

    class Spy(inat.cli.main.Predictor):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(inat.cli.main, "Predictor", Spy)
    lines = {}
    for flag in ([], ["--exact"]):
        assert main(["predict", sample_photo("lion.jpg"), "--model", str(weights / "tiny"), "--json", "--top", "3",
                     *flag]) == 0
        lines[bool(flag)] = json.loads(capsys.readouterr().out)
    assert [p.backend for p in made] == [openvino_backend.default_backend(), "torch"] and made[1].engine.exact
    fast, exact = lines[False], lines[True]
    assert list(fast) == list(exact) == CONTRACT_KEYS
    assert [p["class_id"] for p in fast["predictions"]] == [p["class_id"] for p in exact["predictions"]]
    assert {p["class_id"] for p in fast["predictions"]} <= {t.class_id for t in TAXA}


# -- --precision: one switch on predict and export (tests/test_openvino_backend.py has the engine's side) ----------
needs_openvino = pytest.mark.skipif(not openvino_backend.available(), reason="OpenVINO is not installed")
PREPARING = "preparing the fast version of {} (once; about 10 s a model)…"
NO_BF16 = ("this CPU has no bf16 (AVX-512 BF16 or AMX), so OpenVINO runs precision bf16 in fp32 "
           "(fp32's answers, no speed-up)")


@needs_openvino
def test_precision_switch_on_export_and_predict(exported, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setattr(openvino_backend, "_warned_bf16", [False])
    folder = str(copy_bundle(exported, tmp_path / "tiny"))
    lion = sample_photo("lion.jpg")
    assert main(["predict", lion, "--model", folder, "--precision", "int8"]) == 1  # int8 is made by export only
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.rstrip().endswith(f"make it with python -m inat export --model {folder} "
                                                                "--precision int8")
    assert main(["export", "--model", folder, "--precision", "bf16"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"wrote {folder}/model.xml (") and out[-1].endswith("OpenVINO fp32 IR; --precision "
                                                                                   "bf16 runs it)")
    answers = {}
    for precision in ("fp32", "bf16"):
        assert main(["predict", lion, "--model", folder, "--json", "--precision", precision]) == 0
        answers[precision] = json.loads(capsys.readouterr().out)["predictions"]
    assert [p["class_id"] for p in answers["bf16"]] == [p["class_id"] for p in answers["fp32"]]
    if not openvino_backend.cpu_has_bf16():  # said in one line
        assert [r.getMessage() for r in caplog.records if "no bf16" in r.getMessage()] == [NO_BF16]


def test_precision_without_openvino_is_one_line_saying_how_to_install_it(weights, monkeypatch, capsys):
    monkeypatch.setattr(openvino_backend, "available", lambda: False)
    tiny = str(weights / "tiny")
    assert main(["predict", sample_photo("lion.jpg"), "--model", tiny, "--precision", "bf16"]) == 1
    assert capsys.readouterr().err == "error: precision bf16 runs on OpenVINO, and openvino is not installed: " \
                                      "pip install openvino nncf\n"
    assert main(["export", "--model", tiny, "--precision", "int8"]) == 2  # before any work is done
    err = capsys.readouterr().err
    assert err.startswith("error: precision int8 runs on OpenVINO, and openvino") and len(err.splitlines()) == 1


@pytest.mark.integration
@needs_openvino
def test_predict_precision_bf16_in_its_own_process(exported, tmp_path):
    folder = str(copy_bundle(exported, tmp_path / "tiny"))
    r = inat("predict", sample_photo("lion.jpg"), "--model", folder, "--precision", "bf16", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["error"] is None
    assert (tmp_path / "tiny" / "model.xml").is_file()  # made on first use
    # The user's view: the line saying the bf16 file is being made (once), and one warning line where the CPU has no
    # bf16, nothing else.
    want = [PREPARING.format("tiny")] + ([] if openvino_backend.cpu_has_bf16() else [NO_BF16])
    assert [line for line in r.stderr.splitlines() if line.strip()] == want


def test_a_bad_model_is_one_line_per_photo(tmp_path, capsys):
    photos = [sample_photo("lion.jpg"), sample_photo("tower.jpg")]
    assert main(["predict", *photos, "--model", str(tmp_path / "nope"), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == photos and all(list(line) == CONTRACT_KEYS for line in lines)
    assert lines[0]["error"].startswith("model not loaded: ") and str(tmp_path / "nope") in lines[0]["error"]
    assert main(["predict", photos[0], "--model", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1


def test_a_pickle_given_as_model_says_how_to_import_it(tmp_path, capsys):
    long = tmp_path / ("a_rather_long_folder_name_" * 6)
    long.mkdir()
    (long / "best_model.pth").write_bytes(b"\x80\x04N.")
    assert main(["labels", "--model", str(long / "best_model.pth")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.rstrip().endswith("--trust-pickle --out weights/NAME")


def test_labels_and_models(weights, capsys, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    assert main(["labels", "--model", "tiny", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["class_id"] for x in rows] == [t.class_id for t in TAXA]
    assert list(rows[0]) == ["class_id", "scientific_name", "common_name", "rank", "taxonomy"]
    assert main(["labels", "--model", "tiny"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "     0  Lumbricus terrestris  [species]"
    assert main(["models", "--json"]) == 0
    models = {m["name"]: m for m in map(json.loads, capsys.readouterr().out.splitlines())}
    assert models["tiny"]["classes"] == len(TAXA) and models["tiny"]["val_top1"] is None
    assert models["starter"]["builtin"] and not models["starter"]["default"]
    assert models["naturalist"]["builtin"] and models["naturalist"]["default"]
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("* naturalist ") and out[-1] == "(* = default)"
    # Issue 25 item 3: no expert is installed here, so no figure measured with experts is quoted for naturalist.
    assert out[0].endswith("top-1 not measured for this set-up") and models["naturalist"]["top1"] is None


def test_the_readable_block():
    # Issue 25 item 10: the path once, no library name: the app's own sentence.
    assert format_identification(Identification("a.jpg", "m", error="a.jpg: no such file")) == \
        "error: a.jpg does not exist: check the name and the folder.\n"
    bad = format_identification(Identification("d/notes.jpg", "m", error="notes.jpg: not an image file Pillow can read"))
    assert bad == "error: d/notes.jpg is not a photo this app can open: choose a JPEG, PNG, WebP or HEIC file.\n"
    import numpy as np

    from inat.core.record import identify
    from inat.core.rollup import TaxonTree
    from inat.core.taxonomy import Taxon
    equus = Taxon(9, "Equus", "Equus", "genus", {"kingdom": "Animalia", "genus": "Equus"})
    r = identify(TaxonTree(FELIDS + [equus]), np.array(FELID_PROBS + [0.0]), "a.jpg", "felids", k=5)
    lines = format_identification(r).splitlines()
    assert lines[0] == "a.jpg  (model: felids)"
    assert lines[1].startswith("  1.  40.0 %  Lion (Panthera leo)") and lines[1].endswith(
        "[species] Animalia > Chordata > Mammalia > Carnivora > Felidae > Panthera")
    assert "Equus (Equus)" not in lines[5] and " Equus " in lines[5]  # one display-name rule everywhere
    assert lines[-1] == "  pretty sure: genus Panthera (75.0 %)"
    out = identify(TaxonTree(FELIDS), np.array(FELID_PROBS) * 0.1, "t.jpg", "m", scope_threshold=0.5)
    assert "does not look like an organism this model knows" in format_identification(out)


def test_exit_status_of_interrupts_and_failures(monkeypatch, capsys):
    import inat.cli.main

    def interrupted(args):
        raise KeyboardInterrupt

    def broken(args):
        raise RuntimeError("disk full\nTraceback: ...")
    for func, code, err in ((interrupted, 130, "interrupted\n"), (broken, 2, "error: disk full\n")):
        monkeypatch.setattr(inat.cli.main, "cmd_models", func)
        assert main(["models"]) == code
        assert capsys.readouterr().err == err


# ---------------------------------------------------------------------------------------------
# The built-in starter through the command line (assets/starter_taxonomy.tsv and the packaged weights).

@pytest.mark.integration
def test_starter_names_lion_and_cheetah_and_rejects_the_tower():
    photos = [sample_photo(n) for n in ("lion.jpg", "cheetah.jpg", "tower.jpg")]
    r = inat("predict", *photos, "--model", "starter", "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    lion, cheetah, tower = map(json.loads, r.stdout.splitlines())
    assert lion["predictions"][0]["scientific_name"] == "Panthera leo" and lion["in_scope"] is True
    assert cheetah["predictions"][0]["scientific_name"] == "Acinonyx jubatus" and cheetah["in_scope"] is True
    assert cheetah["predictions"][0]["taxonomy"]["family"] == "Felidae"
    assert tower["in_scope"] is False and tower["model"] == "starter"


def test_starter_labels_are_exactly_the_imagenet_organism_classes(capsys):
    assert main(["labels", "--model", "starter", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["class_id"] for x in rows] == ORGANISMS
    by_id = {x["class_id"]: x for x in rows}
    assert (by_id[286]["scientific_name"], by_id[286]["taxonomy"]["genus"]) == ("Puma concolor", "Puma")  # cougar
    assert (by_id[340]["rank"], by_id[340]["scientific_name"]) == ("genus", "Equus")  # zebra
    assert all(set(x["taxonomy"]) == {"kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet"}
               for x in rows)


@pytest.mark.integration
def test_labels_piped_into_head_ends_quietly():
    r = subprocess.run(f"{sys.executable} -m inat labels --model starter --json | head -1", shell=True,
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert len(r.stdout.splitlines()) == 1 and r.stderr == ""


# -- first contact ----------------------------------------------------------------------------
def test_predict_takes_folders_without_csv(weights, tmp_path, capsys, monkeypatch):
    """A folder without --csv was refused ("is a directory, not an image") although --csv walks folders."""
    import shutil
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    day = tmp_path / "day"
    (day / "sub").mkdir(parents=True)
    shutil.copy(sample_photo("lion.jpg"), day / "b.jpg")
    shutil.copy(sample_photo("cheetah.jpg"), day / "sub" / "a.jpg")
    (day / "notes.txt").write_text("not a photo")  # not a photo suffix: left out of the walk
    assert main(["predict", str(day), "--model", "tiny", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == [str(day / "b.jpg"), str(day / "sub" / "a.jpg")]
    assert main(["predict", str(day), "--model", "tiny"]) == 0
    assert "is a directory" not in capsys.readouterr().err
    (tmp_path / "empty").mkdir()   # a folder with no photo is an input that failed, in its place, said once
    assert main(["predict", str(tmp_path / "empty"), "--model", "tiny"]) == 1
    out = capsys.readouterr()
    assert (out.out + out.err).count(str(tmp_path / "empty")) == 1 and "no photos" in out.out + out.err


def test_a_bad_photo_line_names_its_path_once(weights, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(weights))
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    assert main(["predict", str(bad), "--model", "tiny"]) == 1  # the exit status is kept
    out = capsys.readouterr().out
    assert out.count(str(bad)) == 1 and "Pillow" not in out and "is not a photo" in out


def test_the_first_predict_says_once_that_it_prepares_the_fast_version(exported, tmp_path, capsys):
    """The first predict of a model was silent for 12.5 s while it made its fast version."""
    folder = str(copy_bundle(exported, tmp_path / "fresh", exports=False))
    assert main(["predict", sample_photo("lion.jpg"), "--model", folder]) == 0
    err = capsys.readouterr().err
    assert err.count("preparing the fast version of") == 1, err
    assert main(["predict", sample_photo("lion.jpg"), "--model", folder]) == 0
    assert "preparing the fast version" not in capsys.readouterr().err  # made once: said once


# -- the installed command ----------------------------------------------------------------------------
def test_pyproject_installs_the_inat_command_and_the_package():
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert project["project"]["scripts"] == {"inat": "inat.cli.main:main"}
    # The test command installs it; the app's requirements do not: a Hugging Face Space installs requirements.txt
    # before the repository is copied in, so `-e .` there would break the Space's build.
    assert "-e ." in (REPO / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert "-e ." not in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.integration
def test_the_installed_command_works_from_any_folder(tmp_path):
    # The README's test command installs `inat` editable: the command runs outside the repository.
    import shutil
    exe = shutil.which("inat")
    assert exe, "no `inat` on PATH: pip install -r requirements-dev.txt installs it (pip install -e .)"
    out = subprocess.run([exe, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("usage: inat "), out.stderr
    photo = sample_photo("tower.jpg")
    out = subprocess.run([exe, "predict", photo, "--model", "starter", "--json", "--no-export"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    record = json.loads(out.stdout)
    assert out.returncode == 0 and record["model"] == "starter" and record["in_scope"] is False, out.stderr
