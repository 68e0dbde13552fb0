"""inat.app.sketch_map: the Observations tab's map, drawn here as SVG from the rows' positions and the offline
gazetteer (no server, no tiles), checked as XML: dots, towns, grid labels that never collide or leave the frame.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from inat.app.sketch_map import MAP_NUMBERS, map_html, map_svg
from inat.observations.table import ALL_COLUMNS


def test_the_map_is_drawn_here_with_the_towns_and_no_server():
    _, rows = None, [dict(dict.fromkeys(ALL_COLUMNS), file=f"{i}.jpg", latitude=lat, longitude=lon,
                          scientific_name="Panthera") for i, (lat, lon) in
                     enumerate([(36.9741, -122.0308), (36.98, -122.02), (37.0447, -122.1072)])]
    rows.append(dict(dict.fromkeys(ALL_COLUMNS), file="nowhere.jpg"))
    html = map_html(rows)
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    root = ET.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}g/{ns}circle")) == 3
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Santa Cruz" in texts and "Felton" in texts and {"1", "2", "3"} <= set(texts)
    assert any(t.endswith("km") or t.endswith(" m") for t in texts)  # a scale bar
    assert "3 of 4 photos have a position" in html
    assert set(re.findall(r"https?://[^'\" ]+", html)) == {"http://www.w3.org/2000/svg"}  # nothing to fetch


SANTA_CRUZ_DAY = [(36.9741, -122.0308), (36.9790, -122.0250), (37.0447, -122.1072), (37.0510, -122.0140),
                  (36.9960, -122.0590), (37.0600, -122.1600), (36.9700, -122.0300), (37.0000, -122.0900),
                  (37.0200, -122.1400), (36.9650, -122.0200)]
SANTA_CRUZ = ("Santa Cruz", 36.97412, -122.0308)  # the town the first dot sits on


def _boxes(svg, tag="text"):
    """(x0, y0, x1, y1) of each text, estimated as map_svg does (0.6 em a character), with its text."""
    out = []
    for m in re.finditer(r"<text[^>]* x='([\d.-]+)' y='([\d.-]+)' font-size='(\d+)'[^>]*?(?:text-anchor='(\w+)')?[^>]*>"
                         r"([^<]*)</text>", svg):
        x, y, size, anchor, text = float(m[1]), float(m[2]), float(m[3]), m[4] or "start", m[5]
        w = 0.6 * size * len(text)
        x0 = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
        out.append((x0, y - size, x0 + w, y, text))
    return out


@pytest.mark.parametrize("width", [420, 1040])
def test_the_maps_grid_labels_never_touch_or_leave_the_frame(width):
    """Issue 25 item 5: longitude ticks ran together ("122.16° W122.14° W…"); "37.06° N" was cut at the top."""
    points = [(i, lat, lon, "") for i, (lat, lon) in enumerate(SANTA_CRUZ_DAY, 1)]
    svg = map_svg(points, [SANTA_CRUZ], width, 460 if width > 420 else 340)
    view_w = float(re.search(r"viewBox='0 0 ([\d.]+)", svg)[1])
    ticks = [b for b in _boxes(svg) if "°" in b[4]]
    lon_ticks = sorted([b for b in ticks if b[4].endswith("W")])
    assert 2 <= len(lon_ticks) <= 6
    for a, b in zip(lon_ticks, lon_ticks[1:]):
        assert b[0] - a[2] >= 8, (a, b)  # a gap between neighbours
    assert all(b[1] >= 0 and b[2] <= view_w for b in ticks)


def test_the_map_keeps_a_margin_around_the_dots_and_shows_every_town():
    points = [(1, 36.9741, -122.0308, "a"), (2, 37.0447, -122.1072, "b")]  # two photos: they touched the frame
    svg = map_svg(points, [SANTA_CRUZ, ("Felton", 37.05134, -122.07330)])
    w, h = 420, float(re.search(r"<rect x='0.5' y='0.5' width='\d+' height='(\d+)'", svg)[1])
    for cx, cy in re.findall(r"<circle cx='([\d.]+)' cy='([\d.]+)'", svg):
        assert 20 <= float(cx) <= w - 20 and 20 <= float(cy) <= h - 20, (cx, cy)
    texts = [b[4] for b in _boxes(svg)]
    assert "Santa Cruz" in texts and "Felton" in texts  # never left out for a dot's number
    assert svg.rindex("Santa Cruz") > svg.rindex("<circle")  # drawn over the dots, not hidden under dot 1


def test_the_map_comes_wide_for_a_desktop_and_narrow_for_a_phone():
    one = dict(dict.fromkeys(ALL_COLUMNS), file="a.jpg", latitude=36.9741, longitude=-122.0308)
    html = map_html([one, dict(one, file="b.jpg", latitude=37.0447, longitude=-122.1072)])
    assert "obs-map-wide" in html and "obs-map-narrow" in html and "viewBox='0 0 1040 " in html


def test_a_map_of_one_spot_and_of_none():
    one = dict(dict.fromkeys(ALL_COLUMNS), file="a.jpg", latitude=-42.8821, longitude=147.3272)
    svg = map_html([one, dict(one, file="b.jpg")])
    ET.fromstring(svg[svg.index("<svg"):svg.index("</svg>") + 6])
    assert "Hobart" in svg
    assert "nothing to map" in map_html([dict(one, latitude=None, longitude=None)])


def test_photos_either_side_of_180_degrees_stay_together():
    # 179.85° E, 179.95° E and 179.95° W: 0.1° apart each, west to east in that order.
    svg = map_svg([(1, -17.0, 179.85, "a"), (2, -17.0, 179.95, "b"), (3, -17.0, -179.95, "c")])
    a, b, c = [float(x) for x in re.findall(r"<circle cx='([\d.]+)'", svg)]
    assert a < b < c and abs((b - a) - (c - b)) < 1


def test_many_dots_carry_no_numbers():
    points = [(i, 36.9 + i / 1000, -122.0, f"#{i}") for i in range(1, MAP_NUMBERS + 2)]
    svg = map_svg(points)
    assert svg.count("<circle") == MAP_NUMBERS + 1 and not re.search(r">\d+</text>", svg)
