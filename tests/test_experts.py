"""The iNat 2017 experts: label parsing, and the real conversion checked against the TFLite interpreter.

The conversion tests need ../shared/models/coral-inat2017 (the mirror of the public files), the
photos of ../shared/data and `ai_edge_litert`; they skip cleanly without them. They run on a fixed
sample (every 7th bird photo, every 3rd butterfly photo, about 150 each); benchmarks/expert_parity.py
runs every photo and writes benchmarks/results/expert_parity.json.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from inat.models.starter import shipped_calibration
from inat.models.tflite_reader import TFLiteError, read_tflite
from inat.naturalist.expert_bundle import TSV_COLUMNS, ExpertError, classes_from_tsv, expert_classes, parse_labels
from inat.naturalist.experts import EXPERTS

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "models" / "coral-inat2017"
DATA = REPO.parent / "shared" / "data"
# (expert, photos, every n-th photo): about 150 photos each keeps the test near half a minute.
SAMPLES = [("inat2017-birds", "birds525", 7), ("inat2017-insects", "butterflies100", 3)]
# The float model and the uint8 TFLite file differ by the file's activation rounding, which moves
# close calls (benchmarks/results/expert_parity.json, all photos): top-1 agrees on 96.8 % (birds) and
# 95.6 % (insects) of photos, 99.1 % / 98.8 % of those whose species the expert knows; the top-5 set
# (ties allowed) on ~81 %, as often as the TFLite file agrees with itself on the photo moved by one
# grey level (75 % / 79 %). These samples measured 98.0 / 95.8 %, 100 / 100 % and 80 / 80 %.
MIN_TOP1 = 0.95
MIN_TOP1_KNOWN = 0.98
MIN_TOP5_WITHIN_STEP = 0.90


# -- label files and taxonomy TSVs (no shared files needed) ----------------------------------------
def test_labels_parse_escapes_nested_parentheses_and_need_background():
    text = ("Anas superciliosa \\xd7 platyrhynchos (Pacific Black Duck \\xd7 Mallard hybrid)\n"
            "Circus cyaneus hudsonius (Northern Harrier (American))\nDiaethria anna (Anna\\u2019s Eighty-eight)\n"
            "Siproeta stelenes biplagiata ()\nbackground\n")
    assert parse_labels(text) == [("Anas superciliosa × platyrhynchos", "Pacific Black Duck × Mallard hybrid"),
                                  ("Circus cyaneus hudsonius", "Northern Harrier (American)"),
                                  ("Diaethria anna", "Anna’s Eighty-eight"), ("Siproeta stelenes biplagiata", None)]
    with pytest.raises(ExpertError, match="background"):
        parse_labels("Aramus guarauna (Limpkin)\n")


@pytest.mark.parametrize("name", sorted(EXPERTS))
def test_committed_taxonomy_matches_the_label_file_name_by_name(name):
    expert = EXPERTS[name]
    if not (MIRROR / expert.labels.name).is_file():
        pytest.skip("../shared/models/coral-inat2017 not present")
    labels = parse_labels((MIRROR / expert.labels.name).read_text(encoding="utf-8"))
    taxa, source = expert_classes(expert, labels)
    assert len(taxa) == expert.species and source.startswith("assets/experts/")
    assert sum(bool(t.taxonomy["genus"]) for t in taxa) >= 0.99 * len(taxa)
    with pytest.raises(ExpertError, match="the label file"):
        expert_classes(expert, labels[1:] + labels[:1])


def test_taxonomy_tsv_rows_become_taxa_with_inat_ids(tmp_path):
    rows = [TSV_COLUMNS,
            ("1", "Aramus guarauna", "Limpkin", "species", "Animalia", "Chordata", "Aves", "Gruiformes", "Aramidae",
             "Aramus", "guarauna", "4835", "exact"),
            ("0", "Foo bar", "", "species", "Animalia", "Chordata", "Aves", "", "", "", "", "", "none")]
    (tmp_path / "t.tsv").write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    taxa = classes_from_tsv(tmp_path / "t.tsv", 2)
    assert taxa[1].taxon_id == 4835 and taxa[1].taxonomy["family"] == "Aramidae"
    assert taxa[0].taxon_id is None and taxa[0].taxonomy["order"] is None  # never invented
    with pytest.raises(ExpertError, match="0..2"):
        classes_from_tsv(tmp_path / "t.tsv", 3)


def test_not_a_tflite_file_is_one_line(tmp_path):
    (tmp_path / "x.tflite").write_bytes(b"\x00" * 100)
    with pytest.raises(TFLiteError, match="not a TensorFlow Lite model"):
        read_tflite(tmp_path / "x.tflite")


# -- the real files ---------------------------------------------------------------------------------
def _need_mirror():
    if not (MIRROR / EXPERTS["inat2017-birds"].model.name).is_file():
        pytest.skip("../shared/models/coral-inat2017 not present")


def _benchmark():
    spec = importlib.util.spec_from_file_location("expert_parity", REPO / "benchmarks" / "expert_parity.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("expert_parity", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Both experts installed by the download command's own code, from the mirror."""
    _need_mirror()
    from inat.models.bundle import load_bundle
    from inat.naturalist.download import install
    folder = tmp_path_factory.mktemp("experts")
    out = {}
    for name, _, _ in SAMPLES:
        status, path = install(name, source_dir=MIRROR, out=folder / name, show=False)
        assert status == "installed"
        out[name] = load_bundle(path)
    return out


def test_truncated_tflite_is_refused_in_one_line(tmp_path):
    _need_mirror()
    data = (MIRROR / EXPERTS["inat2017-birds"].model.name).read_bytes()
    with pytest.raises(TFLiteError) as e:
        read_tflite(data[:1_000_000], name="cut.tflite")
    assert "\n" not in str(e.value) and str(e.value).startswith("cut.tflite:")


@pytest.mark.shared
def test_converted_bundle_describes_itself(bundles):
    b = bundles["inat2017-birds"]
    assert (b.arch, b.num_outputs, len(b.classes)) == ("mobilenet_v2_tf", 965, 964)
    assert b.output_index == list(range(964))  # output 964, background, belongs to no class
    assert b.weights_file.stat().st_size < 8_000_000  # fp16
    assert (b.path / "LICENSE").read_text().lstrip().startswith("Apache License")
    p = b.provenance
    assert p["commit"] == "104342d2d3480b3e66203073dac24f4e2dbb4c41" and p["licence"] == "Apache-2.0"
    assert p["files"][EXPERTS["inat2017-birds"].model.name]["sha256"] == EXPERTS["inat2017-birds"].model.sha256
    assert b.preprocess.input_size == 224 and abs(b.preprocess.mean[0] * 255 - 128) < 1e-9
    assert b.in_scope_threshold is not None and b.run["batchnorm"] == "folded"
    # the calibration shipped in assets/calibration (fitted by `python -m inat calibrate`) comes with the download
    assert b.calibration == shipped_calibration("inat2017-birds") and b.temperature > 0


@pytest.mark.shared
def test_converted_bundle_predicts_a_bird(bundles):
    from inat.identify.predict import Predictor
    rows = _benchmark().labelled_photos(DATA / "birds525")
    photo = next(r for r in rows if r["scientific_name"] == "Cardinalis cardinalis")
    r = Predictor(bundles["inat2017-birds"], backend="torch").predict([str(photo["path"])], k=3)[0]
    assert r.error is None and r.in_scope is True
    assert r.top.taxon.scientific_name == "Cardinalis cardinalis"
    assert r.top.taxon.taxonomy["class"] == "Aves"


@pytest.mark.shared
@pytest.mark.integration   # the TFLite interpreter over ~150 real photos a model: half a minute
@pytest.mark.parametrize("name,data,every", SAMPLES)
def test_bundle_agrees_with_the_tflite_interpreter(bundles, name, data, every):
    pytest.importorskip("ai_edge_litert")
    if not (DATA / data / "labels.csv").is_file():
        pytest.skip(f"../shared/data/{data} not present")
    bench = _benchmark()
    tflite = MIRROR / EXPERTS[name].model.name
    rows = bench.subset(bench.labelled_photos(DATA / data), every)
    r = bench.compare(bundles[name], tflite, rows, bench.known_maps(bundles[name], data))
    r.pop("in_scope_scores")
    assert r["photos"] >= 140
    assert r["top1_agreement"] >= MIN_TOP1 and r["top1_agreement_known"] >= MIN_TOP1_KNOWN, r
    assert r["top5_set_within_one_step"] >= MIN_TOP5_WITHIN_STEP, r
    # The conversion is no further from the file than the file is from itself, one grey level away.
    assert r["top1_agreement"] >= r["tflite_vs_itself_nudged"]["top1"] - 0.02, r
    assert r["top5_set_agreement"] >= r["tflite_vs_itself_nudged"]["top5_set"] - 0.05, r
    # Where the photo's species is known, the float model is as accurate as the file.
    known = r.get("known_by_scientific_name") or r["known_by_match_file"]
    assert known["photos"] >= 30 and abs(known["top1_bundle"] - known["top1_tflite"]) <= 0.05, r


@pytest.mark.shared
def test_every_convolution_reproduces_the_tflite_layer(bundles):
    # The strongest check of the mapping (layout, padding, bias, dequantization): each of the 52
    # convolutions, fed the TFLite graph's own input, gives its uint8 output to one rounding step.
    pytest.importorskip("ai_edge_litert")
    bench = _benchmark()
    bm = bench.BundleModel(bundles["inat2017-birds"])
    photo = bench.labelled_photos(DATA / "birds525")[0]["path"]
    from inat.core.images import open_image
    r = bench.layer_check(MIRROR / EXPERTS["inat2017-birds"].model.name, bm, bm.pixels(open_image(photo)))
    assert r["layers"] == 52 and r["max_steps"] <= 1 and r["fraction_off"] < 0.02, r


def test_agreement_counts_ties_of_the_quantized_reference():
    bench = _benchmark()
    ref = np.array([5, 5, 3, 3, 3, 1])
    assert bench.agreement(ref, np.array([.9, .8, .1, .7, .3, 0]), 3) == \
        {"strict": False, "tie_aware": True, "within_step": True, "overlap": 2}
    assert not bench.agreement(ref, np.array([.9, .8, .1, .2, .3, .7]), 3)["tie_aware"]
