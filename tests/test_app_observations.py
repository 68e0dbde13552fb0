"""inat.app.observations: the Observations tab's rows, table and CSV, from real photos with EXIF dates and
GPS written into them, a generated PNG and a broken file, identified by a tiny bundle whose answer is known
(conftest's felids: Lion 40 %, genus Panthera 75 %, whatever the photo). Then the served app's /observations
through gradio_client (`integration`).
"""
from __future__ import annotations

import base64
import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from conftest import FELID_PROBS, FELIDS, make_bundle
from PIL import Image

from inat.app.observations import (MAX_PHOTOS, NO_FILES, THUMB_PX, batch_problem, hint_html, model_line, observe,
                                   page_rows, summary_markdown, table_html, thumbnail_uri, upload_order,
                                   write_observations_csv)
from inat.app.views import NBSP
from inat.observations.table import ALL_COLUMNS, COLUMNS
from inat.testing.photos import TRIP, geotagged_day


def pct(text: str) -> str:
    return text.replace(" %", f"{NBSP}%")


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    pytest.importorskip("torch")
    from inat.identify.predict import Predictor
    folder = tmp_path_factory.mktemp("obs") / "felids"
    make_bundle(folder, probs=FELID_PROBS, classes=FELIDS)
    return Predictor(str(folder))


@pytest.fixture(scope="module")
def day(tmp_path_factory, predictor):
    """(upload paths, rows, thumbnails, progress calls) of the day, observed once for the module."""
    paths = geotagged_day(tmp_path_factory.mktemp("uploads"))
    calls = []
    rows, thumbs, _ = observe(predictor, upload_order(reversed(paths)),
                              lambda done, total, what: calls.append((done, total, what)))
    return paths, rows, thumbs, calls


def test_rows_come_in_file_name_order_with_names_not_server_paths(day):
    _, rows, _, _ = day
    assert [r["file"] for r in rows] == ["broken.jpg", "IMG_0001.jpg", "IMG_0002.jpg", "img_0003.png", "tower.jpg"]


def test_every_geotagged_photo_has_its_date_position_place_and_taxon(day):
    _, rows, _, _ = day
    by_name = {r["file"]: r for r in rows}
    for name, _, when, offset, lat, lon, town in TRIP:
        r = by_name[name]
        assert r["observed_on"] == when[:10].replace(":", "-"), name
        assert r["time_observed_at"] == f"{when[:10].replace(':', '-')}T{when[11:]}{offset or ''}"
        assert abs(r["latitude"] - lat) < 0.01 and abs(r["longitude"] - lon) < 0.01, name
        assert town in r["place_guess"], (name, r["place_guess"])
        assert (r["scientific_name"], r["taxon_rank"], r["probability"]) == ("Panthera", "genus", 0.75)
        assert (r["species_guess"], r["species_guess_probability"]) == ("Panthera leo", 0.4)
        assert r["iconic_taxon_name"] == "Mammalia" and r["model"] == "felids" and r["error"] is None
    tower = by_name["tower.jpg"]  # no EXIF: empty fields, never a guess
    assert all(tower[c] is None for c in ("observed_on", "time_observed_at", "latitude", "longitude", "place_guess"))
    assert tower["scientific_name"] == "Panthera"


def test_a_broken_file_keeps_its_row_with_a_sentence_and_the_batch_goes_on(day):
    _, rows, thumbs, _ = day
    broken = rows[0]
    assert broken["error"] == "broken.jpg is damaged or incomplete: upload the original photo again."
    assert broken["scientific_name"] is None and broken["species_guess"] is None and thumbs[0] is None
    assert all(r["error"] is None for r in rows[1:])


def test_thumbnails_are_small_upright_jpegs(day):
    _, rows, thumbs, _ = day
    for uri in thumbs[1:]:
        assert uri.startswith("data:image/jpeg;base64,")
        data = base64.b64decode(uri.split(",", 1)[1])
        assert len(data) < 8_000
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG" and im.size == (THUMB_PX, THUMB_PX)
    assert thumbnail_uri("/nonexistent/x.jpg") is None


def test_progress_counts_up_to_every_photo(day):
    paths, _, _, calls = day
    n = len(paths)
    identifying = [done for done, total, what in calls if what == "Identifying photos"]
    assert identifying[0] == 0 and identifying[-1] == n and identifying == sorted(identifying)
    assert [done for done, _, what in calls if what == "Making thumbnails"][-1] == n
    assert {total for _, total, _ in calls} == {n}


def test_the_csv_has_the_command_lines_columns_checked_one_by_one(day, tmp_path):
    paths, rows, _, _ = day
    path = write_observations_csv(rows, tmp_path)
    assert path == tmp_path / "observations.csv"
    text = path.read_text(encoding="utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        header, *body = list(csv.reader(f))
    assert header == list(ALL_COLUMNS) and header[:len(COLUMNS)] == list(COLUMNS)
    assert len(body) == len(rows)
    for row, line in zip(rows, body):
        for column, cell in zip(header, line):
            value = row[column]
            expected = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
            assert cell == expected, (row["file"], column)
    assert str(Path(paths[0]).parent.parent) not in text  # no server path anywhere


def test_without_a_folder_each_csv_gets_its_own(day):
    _, rows, _, _ = day
    a, b = write_observations_csv(rows), write_observations_csv(rows)
    try:
        assert a.name == b.name == "observations.csv" and a.parent != b.parent
    finally:
        shutil.rmtree(a.parent)
        shutil.rmtree(b.parent)


def test_the_table_names_what_the_model_is_sure_of(day):
    _, rows, thumbs, _ = day
    html = table_html(rows, thumbs)
    assert html.count("<tr>") == len(rows) + 1
    assert [h for h in re.findall(r"<th scope='col'>([^<]*)</th>", html)] == \
        ["#", "Photo", "Date", "Place", "Species", "Probability"]
    # The group it is sure of, then its best guess in words (it was "A big cat" and no species).
    assert html.count(pct("A big cat — most likely Lion, 40 %<br><span class='obs-sub'>sure of genus <i>Panthera</i>"
                          "</span>")) == 4
    assert html.count(pct("<td class='obs-p'>75 %</td>")) == 4
    assert "2024-05-04 <br><span class='obs-sub'>09:15</span>" in html
    assert "Santa Cruz, California, US" in html and "Cape Town" in html
    assert "broken.jpg is damaged or incomplete" in html
    assert html.count("src='data:image/jpeg;base64,") == 4 and "obs-nothumb" in html
    assert "/tmp" not in html and "uploads" not in html


CAT_EXPERT = ("family", "Felidae", "install the cat expert once (needs the internet): "
                                   "`python -m inat download inat2017-cats`, then restart the app.")


def test_a_row_that_stops_at_a_group_says_which_model_would_name_it(predictor, tmp_path):
    # The card said which download would name a vague answer; the table's rows said nothing.
    paths = upload_order(geotagged_day(tmp_path / "uploads"))
    rows, thumbs, hints = observe(predictor, paths, options=[CAT_EXPERT, ("class", "Aves", "pick the model birds.")])
    assert [r["file"] for r in rows][0] == "broken.jpg" and hints[0] is None  # a file that cannot be used: no hint
    assert hints[1:] == [CAT_EXPERT[2]] * 4  # genus Panthera lies in family Felidae; no bird here
    html = table_html(rows, thumbs, hints)
    # Briefly: the command, with the card's whole sentence as its tooltip.
    assert html.count("<span class='obs-hint' title='install the cat expert once (needs the internet): python -m inat "
                      "download inat2017-cats, then restart the app.'>To name it: <code>python -m inat download "
                      "inat2017-cats</code></span>") == 4
    plain = table_html(rows[1:2], thumbs[1:2], ["pick the model my\\_plants (plants of here)."])
    assert "<span class='obs-hint'>To name it: pick the model my_plants (plants of here).</span>" in plain
    assert observe(predictor, paths[1:2])[2] == [None]  # no options: nothing to suggest
    assert "obs-hint" not in table_html(rows, thumbs)


def test_a_hint_keeps_its_code_and_escapes_the_rest():
    assert hint_html(r"pick the model my\_plants (plants of \<here\>).") == \
        "pick the model my_plants (plants of &lt;here&gt;)."
    assert hint_html("run `a <b>` now") == "run <code>a &lt;b&gt;</code> now"


def test_the_table_escapes_what_comes_from_files():
    row = page_rows([{"image": "/tmp/x/<img src=x onerror=alert(1)>.jpg", "model": "m", "predictions": [],
                      "error": "x: not an image file Pillow can read", "ancestor": None, "in_scope": None}])[0]
    html = table_html([row], [None])
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.jpg" in html
    assert "is not a photo this app can open" in html and "Pillow" not in html


def test_not_sure_and_outside_rows_give_the_guess_as_a_guess():
    base = dict.fromkeys(ALL_COLUMNS)
    unsure = dict(base, file="a.jpg", species_guess="Corvus corax", species_guess_probability=0.41, in_scope=True)
    outside = dict(unsure, file="b.jpg", in_scope=False)
    html = table_html([unsure, outside])
    assert "Not sure<br><span class='obs-sub'>best guess <i>Corvus corax</i></span>" in html
    assert "Outside what this model knows" in html and pct("41 %") in html


def test_the_batch_limit_is_one_sentence():
    assert MAX_PHOTOS >= 200
    assert batch_problem(1) is None and batch_problem(MAX_PHOTOS) is None
    assert batch_problem(0) == NO_FILES
    sentence = batch_problem(MAX_PHOTOS + 31)
    assert sentence.startswith(f"Up to {MAX_PHOTOS} photos at a time: you chose {MAX_PHOTOS + 31}")
    assert sentence.count(".") == 1 and "\n" not in sentence


def test_upload_order_follows_the_files_own_names():
    paths = ["/u/9/b.jpg", "/u/1/C.jpg", "/u/5/a.jpg"]
    assert upload_order(paths) == ["/u/5/a.jpg", "/u/9/b.jpg", "/u/1/C.jpg"]


def test_summary_and_model_line(day):
    _, rows, _, _ = day
    assert summary_markdown(rows) == ("**5 photos**: 4 identified, 1 could not be used. 3 with a date and 3 with a "
                                      "position in their EXIF.")
    assert summary_markdown(rows[1:2]).startswith("**1 photo**: 1 identified.")
    assert model_line("<i>x</i>") == ("Photos are identified with the **&lt;i&gt;x&lt;/i&gt;** model, chosen on the "
                                      "Identify tab.")


# -- the served app through gradio_client (the handler itself: test_app_observations_tab.py) -----------------
@pytest.mark.integration
def test_api_observations_files_in_table_and_csv_out(served, tmp_path):
    from gradio_client import Client, handle_file
    paths = geotagged_day(tmp_path / "day")
    client = Client(served[0], verbose=False, download_files=str(tmp_path / "downloads"))
    summary, table, map_, csv_file = client.predict([handle_file(p) for p in paths], api_name="/observations")
    assert summary.startswith("**5 photos**: 4 identified, 1 could not be used.")
    assert table.count("<tr>") == 6 and "Santa Cruz, California, US" in table and "Felton" in table
    assert "<svg" in map_ and "Cape Town" in map_
    with open(csv_file, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert Path(csv_file).name == "observations.csv" and list(rows[0])[:len(COLUMNS)] == list(COLUMNS)
    assert [r["file"] for r in rows] == ["broken.jpg", "IMG_0001.jpg", "IMG_0002.jpg", "img_0003.png", "tower.jpg"]
    assert rows[1]["observed_on"] == "2024-05-04" and rows[1]["scientific_name"] == "Panthera"
    assert abs(float(rows[1]["latitude"]) - 36.9741) < 0.01 and rows[1]["model"] == "felids"
    assert rows[0]["error"].startswith("broken.jpg is damaged") and rows[0]["scientific_name"] == ""
    # Another model picked on the page is the one used.
    _, table, _, csv_file = client.predict([handle_file(paths[1])], "scoped", api_name="/observations")
    assert "Outside what this model knows" in table
