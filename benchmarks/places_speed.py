"""The offline gazetteer: load time, memory, time a lookup, and how far the nearest town is.

    python benchmarks/places_speed.py           # ~35 s on 2 cores (the land part)
    PYTHONPATH=/tmp/glm python benchmarks/places_speed.py   # with the land-point distances

Load: the first `place_guess` in a fresh process (reads rg_cities1000.csv). Memory: what the loaded
gazetteer keeps (tracemalloc, after loading) and the rise in peak RSS. Lookup: median over 2,000
random points. Distances: for 20,000 random points on land (uniform on the sphere, kept where the
`global-land-mask` package says land, Antarctica and Greenland included and excluded), the
distance to the nearest gazetteer place, as percentiles, and the share of points named plainly
(≤ NEAR_KM), named with a distance (≤ FAR_KM) and left empty. global-land-mask is not a project
dependency (pip install --target /tmp/glm global-land-mask); without it that part is skipped.
Writes benchmarks/results/places_speed.json.
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/, the script's folder)

RESULTS = REPO / "benchmarks" / "results" / "places_speed.json"


def random_points(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform on the sphere (latitude from arcsin of a uniform sine)."""
    return np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)


def land_distances(rng, n: int = 20_000) -> dict | None:
    try:
        from global_land_mask import globe
    except ImportError:
        return None
    from inat.observations import places
    out = {}
    lat, lon = random_points(4 * n, rng)
    land = globe.is_land(lat, lon)
    lat, lon = lat[land][:n], lon[land][:n]
    d = np.array([places.nearest_place(a, b).distance_km for a, b in zip(lat, lon)])
    # Antarctica (below 60° S) and Greenland (roughly) hold almost no towns and no naturalists' walks.
    greenland = (lat > 59) & (lon > -74) & (lon < -11) & ~((lat < 66) & (lon > -25))
    for name, keep in [("all land", np.ones_like(d, bool)), ("land without Antarctica and Greenland",
                                                                 (lat > -60) & ~greenland)]:
        x = d[keep]
        out[name] = {"points": int(keep.sum()),
                     "km_percentiles": {str(p): round(float(np.percentile(x, p)), 1)
                                        for p in (10, 25, 50, 75, 90, 95, 99)},
                     "named_plainly": round(float((x <= places.NEAR_KM).mean()), 3),
                     "named_with_distance": round(float(((x > places.NEAR_KM) & (x <= places.FAR_KM)).mean()), 3),
                     "left_empty": round(float((x > places.FAR_KM).mean()), 3)}
    return out


def main() -> int:
    from inat.observations import places
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t = time.perf_counter()
    places.place_guess(36.9741, -122.0308)
    load_s = time.perf_counter() - t
    kept_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    rss_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024

    rng = np.random.default_rng(0)
    lat, lon = random_points(2_000, rng)
    times = []
    for a, b in zip(lat, lon):
        t = time.perf_counter()
        places.place_guess(a, b)
        times.append(time.perf_counter() - t)
    result = {"gazetteer": str(places.gazetteer_path().name), "places": int(len(places._gazetteer().lat)),
              "load_s": round(load_s, 3), "kept_mb": round(kept_mb, 1), "peak_rss_rise_mb": round(rss_mb, 1),
              "lookup_ms_median": round(1000 * statistics.median(times), 3),
              "near_km": places.NEAR_KM, "far_km": places.FAR_KM,
              "land_distances": land_distances(np.random.default_rng(1))}
    write_results(RESULTS, result, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
