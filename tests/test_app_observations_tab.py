"""inat.app.observations_tab: the Observations tab's handler, called directly with the app's models (conftest's
`catalog`: `felids` names every photo Lion 40 %, genus Panthera 75 %). `integration`: it answers in Gradio's terms.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inat.app.observations import MAX_PHOTOS
from inat.testing.photos import geotagged_day, sample_photo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tab(gr):
    import inat.app.observations_tab
    return inat.app.observations_tab


def test_the_handler_refuses_too_many_or_no_files_and_unknown_models(tab, catalog, gr, tmp_path):
    # Issue 25 item 6: said in the summary, where the answer goes (no toast and red "Error" pill over the table).
    for files, words in ((None, "Choose some photos first"), ([], "Choose some photos first"),
                         ([str(tmp_path / "x.jpg")] * (MAX_PHOTOS + 1), f"Up to {MAX_PHOTOS} photos at a time")):
        summary, table, map_, csv_file = tab.observe_files(catalog, files, "felids")
        assert summary.startswith(words) and "<tr>" not in table and map_ == "" and csv_file is None
    with pytest.raises(gr.Error) as e:
        tab.observe_files(catalog, [sample_photo("lion.jpg")], "../weights/felids")
    assert "Unknown model" in e.value.message


def test_the_handler_reads_a_day_into_summary_table_map_and_csv(tab, catalog, tmp_path):
    paths = geotagged_day(tmp_path / "day")
    seen = []
    summary, table, map_, csv_file = tab.observe_files(catalog, paths, "felids",
                                                       lambda done, **kw: seen.append(done))
    assert summary.startswith(f"**{len(paths)} photos**") and table.count("<tr>") == len(paths) + 1
    assert "<svg" in map_ and Path(csv_file).name == "observations.csv"
    with open(csv_file, encoding="utf-8", newline="") as f:
        assert {r["model"] for r in csv.DictReader(f)} == {"felids"}
    assert seen and seen[-1] == (len(paths), len(paths))  # progress: (done, total) photos


def test_the_file_box_counts_what_was_chosen(tab):
    from inat.app.observations import files_label
    assert tab.count_files(None).label == files_label(0) and tab.count_files(["a", "b"]).label == files_label(2)
