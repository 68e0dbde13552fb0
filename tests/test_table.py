"""Observations: which files a folder gives, one CSV row per photo, checked column by column."""
import csv
import os

import pytest

from inat.observations.exif import PhotoMetadata, photo_metadata
from inat.observations.table import (ALL_COLUMNS, COLUMNS, iconic_taxon, image_files, observation_row, observation_rows,
                                     write_csv)
from inat.testing.photos import exif_block, save_with_exif

CONTRACT = ["file", "observed_on", "time_observed_at", "latitude", "longitude", "place_guess", "scientific_name",
            "common_name", "taxon_rank", "taxon_id", "probability", "ancestor", "in_scope", "iconic_taxon_name",
            "model", "error"]

RAVEN = ("Animalia", "Chordata", "Aves", "Passeriformes", "Corvidae", "Corvus", "corax")
CROW = ("Animalia", "Chordata", "Aves", "Passeriformes", "Corvidae", "Corvus", "brachyrhynchos")
SOAP = ("Plantae", "Tracheophyta", "Liliopsida", "Asparagales", "Asparagaceae", "Chlorogalum", "pomeridianum")
KEYS = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")


def pred(lineage, common, p, class_id=0, **extra):
    return {"class_id": class_id, "probability": p, "scientific_name": f"{lineage[5]} {lineage[6]}",
            "common_name": common, "rank": "species", "taxonomy": dict(zip(KEYS, lineage)), **extra}


def record(image, predictions=(), ancestor=None, in_scope=None, error=None, model="tiny"):
    return {"image": image, "model": model, "in_scope": in_scope, "predictions": list(predictions),
            "ancestor": ancestor, "error": error}


SURE = record("a.jpg", [pred(RAVEN, "Common Raven", 0.91, 3111, taxon_id=8010), pred(CROW, "American Crow", 0.06)],
              {"rank": "species", "name": "Corvus corax", "probability": 0.91}, in_scope=True)
GENUS = record("b.jpg", [pred(CROW, "American Crow", 0.48), pred(RAVEN, "Common Raven", 0.40)],
               {"rank": "genus", "name": "Corvus", "probability": 0.88}, in_scope=True)
UNSURE = record("c.jpg", [pred(SOAP, "Soap Plant", 0.41), pred(RAVEN, "Common Raven", 0.30)], None, in_scope=False)
BROKEN = record("d.jpg", error="d.jpg: truncated or corrupt image (image file is truncated)")


def test_contract_columns_in_order():
    assert list(COLUMNS) == CONTRACT
    assert list(ALL_COLUMNS[:len(CONTRACT)]) == CONTRACT


def test_sure_of_the_species():
    meta = PhotoMetadata("2024-05-04", "2024-05-04 09:15:30", "2024-05-04T09:15:30-07:00", 36.974333, -122.030667, 5.0)
    row = observation_row("a.jpg", SURE, meta, "Santa Cruz, California, US")
    assert row == {
        "file": "a.jpg", "observed_on": "2024-05-04", "time_observed_at": "2024-05-04T09:15:30-07:00",
        "latitude": 36.974333, "longitude": -122.030667, "place_guess": "Santa Cruz, California, US",
        "scientific_name": "Corvus corax", "common_name": "Common Raven", "taxon_rank": "species", "taxon_id": 8010,
        "probability": 0.91, "ancestor": "species Corvus corax", "in_scope": True, "iconic_taxon_name": "Aves",
        "model": "tiny", "error": None, "observed_on_string": "2024-05-04 09:15:30", "positional_accuracy": 5.0,
        "species_guess": "Corvus corax", "species_guess_common_name": "Common Raven",
        "species_guess_probability": 0.91}


def test_unsure_of_the_species_names_the_genus_with_its_summed_probability():
    row = observation_row("b.jpg", GENUS)
    assert (row["scientific_name"], row["taxon_rank"], row["probability"]) == ("Corvus", "genus", 0.88)
    # Issue 25 item 7: a group row carries the group's own iNat id (the classes' names are species' names).
    assert row["common_name"] is None and row["taxon_id"] == 7998  # genus Corvus on iNaturalist
    assert row["iconic_taxon_name"] == "Aves" and row["ancestor"] == "genus Corvus"
    assert (row["species_guess"], row["species_guess_probability"]) == ("Corvus brachyrhynchos", 0.48)


def test_a_group_row_carries_the_groups_name_and_inat_id():
    """`common_name` and `taxon_id` were empty on group rows although Mammalia has an iNat id and a name."""
    from inat.core.taxonomy import higher_taxon
    r = record("m.jpg", [pred(RAVEN, "Common Raven", 0.2)], {"rank": "class", "name": "Aves", "probability": 0.99})
    row = observation_row("m.jpg", r)
    assert (row["scientific_name"], row["common_name"], row["taxon_id"]) == ("Aves", "Birds", 3)
    assert higher_taxon("class", "Mammalia") == (40151, "Mammals") and higher_taxon("kingdom", "Plantae") == (47126, "Plants")
    assert higher_taxon("class", "Nonexistia") == (None, None)


def test_ancestor_outside_the_top_guess_takes_its_lineage_from_a_member():
    # The top class is a plant, but the mass sits on birds: the named taxon's lineage is the birds'.
    r = record("x.jpg", [pred(SOAP, "Soap Plant", 0.3), pred(RAVEN, "Common Raven", 0.28), pred(CROW, "Crow", 0.27)],
               {"rank": "family", "name": "Corvidae", "probability": 0.7})
    row = observation_row("x.jpg", r)
    assert (row["scientific_name"], row["iconic_taxon_name"], row["probability"]) == ("Corvidae", "Aves", 0.7)
    assert row["species_guess"] == "Chlorogalum pomeridianum"


def test_ancestor_may_carry_its_own_names_and_id():
    r = dict(GENUS, ancestor={"rank": "genus", "name": "Corvus", "probability": 0.88, "common_name": "Ravens and Crows",
                              "taxon_id": 7278})
    row = observation_row("b.jpg", r)
    assert (row["common_name"], row["taxon_id"]) == ("Ravens and Crows", 7278)


def test_not_sure_of_anything_leaves_the_taxon_empty_but_gives_the_guess():
    row = observation_row("c.jpg", UNSURE)
    for col in ("scientific_name", "common_name", "taxon_rank", "taxon_id", "probability", "ancestor",
                "iconic_taxon_name"):
        assert row[col] is None, col
    assert row["in_scope"] is False and row["species_guess"] == "Chlorogalum pomeridianum"


def test_broken_file_keeps_its_row_with_the_error_and_its_metadata():
    row = observation_row("d.jpg", BROKEN, PhotoMetadata(observed_on="2024-05-04"), None)
    assert row["error"].startswith("d.jpg: truncated") and row["file"] == "d.jpg" and row["model"] == "tiny"
    assert row["observed_on"] == "2024-05-04"
    for col in ("scientific_name", "probability", "in_scope", "iconic_taxon_name", "species_guess"):
        assert row[col] is None, col


@pytest.mark.parametrize("lineage,expected", [
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Insecta"}, "Insecta"),
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Arachnida"}, "Arachnida"),
    ({"kingdom": "Animalia", "phylum": "Arthropoda", "class": "Malacostraca"}, "Animalia"),
    ({"kingdom": "Animalia", "phylum": "Mollusca", "class": "Gastropoda"}, "Mollusca"),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Mammalia"}, "Mammalia"),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Actinopterygii"}, "Actinopterygii"),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Reptilia"}, "Reptilia"),
    ({"kingdom": "Animalia", "phylum": "Chordata", "class": "Amphibia"}, "Amphibia"),
    ({"kingdom": "Plantae", "phylum": "Tracheophyta"}, "Plantae"),
    ({"kingdom": "Fungi"}, "Fungi"),
    ({"kingdom": "Protozoa"}, "Protozoa"),
    ({"kingdom": "Chromista"}, "Chromista"),
    ({"kingdom": "Bacteria"}, None),
    ({"class": "Aves"}, "Aves"),
    ({}, None),
])
def test_iconic_taxon(lineage, expected):
    assert iconic_taxon(lineage) == expected


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_csv_column_by_column(tmp_path):
    meta = PhotoMetadata("2024-05-04", "2024-05-04 09:15:30", "2024-05-04T09:15:30-07:00", -54.8019, -68.303, None)
    rows = [observation_row("photos/ñandú, 1.jpg", SURE, meta, "Ushuaia, Tierra del Fuego, AR"),
            observation_row("photos/c.jpg", UNSURE), observation_row("photos/d.jpg", BROKEN)]
    path = write_csv(rows, tmp_path / "out.csv")
    header, *body = read_csv(path)
    assert header == list(ALL_COLUMNS)
    assert len(body) == 3
    sure, unsure, broken = (dict(zip(header, r)) for r in body)
    expected_sure = {"file": "photos/ñandú, 1.jpg", "observed_on": "2024-05-04",
                     "time_observed_at": "2024-05-04T09:15:30-07:00", "latitude": "-54.8019", "longitude": "-68.303",
                     "place_guess": "Ushuaia, Tierra del Fuego, AR", "scientific_name": "Corvus corax",
                     "common_name": "Common Raven", "taxon_rank": "species", "taxon_id": "8010", "probability": "0.91",
                     "ancestor": "species Corvus corax", "in_scope": "true", "iconic_taxon_name": "Aves",
                     "model": "tiny", "error": "", "observed_on_string": "2024-05-04 09:15:30",
                     "positional_accuracy": "", "species_guess": "Corvus corax",
                     "species_guess_common_name": "Common Raven", "species_guess_probability": "0.91"}
    for col in header:
        assert sure[col] == expected_sure[col], col
    assert unsure["in_scope"] == "false" and unsure["scientific_name"] == "" and unsure["probability"] == ""
    assert broken["error"] == BROKEN["error"] and all(broken[c] == "" for c in header
                                                      if c not in ("file", "model", "error"))
    assert path.read_bytes().startswith(b"file,observed_on,")  # UTF-8 without a byte-order mark


def test_csv_header_always_and_extra_columns_after(tmp_path):
    assert read_csv(write_csv([], tmp_path / "empty.csv")) == [list(ALL_COLUMNS)]
    rows = [dict(observation_row("a.jpg", SURE), thumbnail="t.png")]
    header, body = read_csv(write_csv(rows, tmp_path / "x.csv"))
    assert header == list(ALL_COLUMNS) + ["thumbnail"] and body[-1] == "t.png"


def test_csv_is_replaced_atomically(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")

    def rows():
        yield observation_row("a.jpg", SURE)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_csv(rows(), path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left
    write_csv([observation_row("a.jpg", SURE)], path)
    assert len(read_csv(path)) == 2 and os.listdir(tmp_path) == ["out.csv"]


def test_image_files_walks_folders_sorted_and_keeps_explicit_paths(tmp_path):
    root = tmp_path / "walk"
    for rel in ["b.jpg", "a.JPG", "c.txt", "sub/z.heic", "sub/y.PNG", "sub/deeper/x.webp", ".hidden.jpg",
                "._a.jpg", ".thumbnails/t.jpg", "a-b/w.tiff", "notes.md", "raw.cr2"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    os.symlink(root, root / "sub" / "loop")  # a symlinked folder is not followed
    rel = [os.path.relpath(f, root) for f in image_files([root])]
    assert rel == ["a-b/w.tiff", "a.JPG", "b.jpg", "sub/deeper/x.webp", "sub/y.PNG", "sub/z.heic"]
    explicit = [str(root / "c.txt"), str(tmp_path / "missing.jpg")]
    assert image_files([root / "sub" / "deeper", *explicit]) == [str(root / "sub/deeper/x.webp"), *explicit]
    assert image_files([root]) == image_files([root])  # stable


def test_geotagged_folder_end_to_end(tmp_path):
    # Geotagged, dated photos plus a broken file: each row has its date, coordinates (within 0.01°),
    # the nearest town's name, and the broken one keeps its row with the error.
    trip = [("santa_cruz.jpg", "2024:05:04 09:15:30", "-07:00", 36.9741, -122.0308, "Santa Cruz"),
            ("hobart.jpg", "2024:01:10 14:02:11", "+11:00", -42.8821, 147.3272, "Hobart"),
            ("cape_town.png", "2023:09:30 07:45:00", "+02:00", -33.9249, 18.4241, "Cape Town")]
    folder = tmp_path / "day"
    folder.mkdir()
    for name, when, offset, lat, lon, _ in trip:
        save_with_exif(folder / name, exif_block(when, offset, lat, lon))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    files = image_files([folder])
    assert [os.path.basename(f) for f in files] == ["broken.jpg", "cape_town.png", "hobart.jpg", "santa_cruz.jpg"]
    records = [dict(BROKEN if f.endswith("broken.jpg") else SURE, image=f) for f in files]
    rows = {os.path.basename(r["file"]): r for r in observation_rows(records)}
    for name, when, offset, lat, lon, town in trip:
        row = rows[name]
        assert row["observed_on"] == when[:10].replace(":", "-")
        assert row["time_observed_at"] == when[:10].replace(":", "-") + "T" + when[11:] + offset
        assert abs(row["latitude"] - lat) < 0.01 and abs(row["longitude"] - lon) < 0.01
        assert town in row["place_guess"]
        assert row["scientific_name"] == "Corvus corax" and row["error"] is None
    assert rows["broken.jpg"]["error"] and rows["broken.jpg"]["scientific_name"] is None
    assert rows["broken.jpg"]["place_guess"] is None


def test_rows_from_the_real_predictor(tmp_path):
    # The record contract as the Predictor writes it today (tiny random Lite0 over conftest.TAXA).
    pytest.importorskip("torch")
    from conftest import make_bundle

    from inat.identify.predict import Predictor
    bundle = make_bundle(tmp_path / "tiny")
    photo = save_with_exif(tmp_path / "p.jpg", exif_block(lat=-0.1807, lon=-78.4678))
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    records = Predictor(str(tmp_path / "tiny")).predict([str(photo), str(tmp_path / "bad.jpg")], k=3)
    good, bad = observation_rows([r.to_json() for r in records])  # what predict --csv passes
    assert good["error"] is None and good["model"]
    assert good["species_guess"] in {t.scientific_name for t in bundle.classes}
    assert 0 < good["species_guess_probability"] <= 1 and "Quito" in good["place_guess"]
    assert good["observed_on"] == "2024-05-04" and good["time_observed_at"] == "2024-05-04T09:15:30-07:00"
    if good["scientific_name"] is not None:  # random weights may or may not be sure of a taxon
        assert good["probability"] >= 0.7 and good["iconic_taxon_name"] in {"Animalia", "Aves", "Plantae"}
    assert bad["error"] and bad["species_guess"] is None
    header, *body = read_csv(write_csv([good, bad], tmp_path / "o.csv"))
    assert header[:16] == CONTRACT and len(body) == 2
    assert photo_metadata(photo).latitude == good["latitude"]
