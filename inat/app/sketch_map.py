"""The Observations tab's map: a sketch drawn here as SVG, with no background map (tiles would come from a map
server, and positions must not leave the machine). Dots are the photos, numbered as in the table, on an
equirectangular grid of latitude and longitude with a scale bar; grey squares mark the GeoNames towns their
place names refer to, which is what gives the dots their geography. No Gradio: tested as HTML.
"""
from __future__ import annotations

import html
import math

from ..observations.places import FAR_KM, nearest_place
from .views import NBSP

# SVG user units; the drawing scales to the screen, text with it: 420 wide keeps 13-unit text at 10-11 px on
# a phone (340 px). A desktop gets a second drawing 1040 wide, shown across the page (page.css) with its text
# at about 17 px, rather than the phone's drawing blown up or kept at 40 % of the width.
MAP_WIDTH, MAP_MIN_HEIGHT, MAP_MAX_HEIGHT = 420, 180, 340
WIDE_WIDTH, WIDE_MAX_HEIGHT = 1040, 460
MARGIN = 26          # SVG units between the outermost dot or town and the frame (its number sits above it)
TICK_FONT = 11       # SVG units, grid labels
FONT = 13            # SVG units, for town names and numbers
SCALE_STRIP = 22     # SVG units under the map for the scale bar
MAP_NUMBERS = 40     # up to this many dots carry their row number; above, numbers would overlap
MIN_SPAN_DEG = 0.01  # a map of photos from one spot still spans about a kilometre
KM_PER_DEG = 111.195  # on the mean-radius sphere places.py uses
DOT, TOWN = "#d9480f", "#868e96"  # an orange that reads on light and dark themes; towns in grey


def map_html(rows) -> str:
    """An SVG sketch of where the geotagged photos were taken, with a one-line caption; a sentence when
    none has a position. Drawn here from the rows' coordinates and the gazetteer: nothing is fetched."""
    points = [(i, r) for i, r in enumerate(rows, 1) if r["latitude"] is not None and r["longitude"] is not None]
    if not points:
        return ("<p class='obs-map-empty'>None of these photos has a GPS position in its EXIF, so there is "
                "nothing to map.</p>")
    towns = _towns([(r["latitude"], r["longitude"]) for _, r in points])
    marks = [(i, r["latitude"], r["longitude"], _point_title(i, r)) for i, r in points]
    svg = map_svg(marks, towns, WIDE_WIDTH, WIDE_MAX_HEIGHT, "obs-map-wide") + map_svg(marks, towns)
    caption = (f"{len(points)} of {len(rows)} photos have a position. A sketch drawn here, without a background "
               f"map: dots are photos, numbered as in the table; grey squares are the towns their places are "
               f"named after.")
    return f"<figure class='obs-map'>{svg}<figcaption>{caption}</figcaption></figure>"


def _point_title(i: int, r: dict) -> str:
    what = r["scientific_name"] or r["species_guess"] or ("cannot be used" if r["error"] else "not sure")
    return f"#{i} {r['file']}: {what}"


def _towns(coords) -> list[tuple[str, float, float]]:
    """(name, lat, lon) of the gazetteer places the positions are named after (within FAR_KM), once each.
    Positions are looked up once per 0.01° cell: the photos of one walk cost a few look-ups."""
    seen, out = set(), []
    for lat, lon in dict.fromkeys((round(a, 2), round(b, 2)) for a, b in coords):
        place = nearest_place(lat, lon)
        if place is None or place.distance_km > FAR_KM or place.label in seen:
            continue
        seen.add(place.label)
        out.append((place.name, place.latitude, place.longitude))
    return out


def map_svg(points, towns=(), width: int = MAP_WIDTH, max_height: int = MAP_MAX_HEIGHT,
            css: str = "obs-map-narrow") -> str:
    """The SVG of `points` [(number, lat, lon, title)] and `towns` [(name, lat, lon)]: an equirectangular
    projection at the points' mean latitude (so a kilometre is as long east-west as north-south), a
    latitude/longitude grid whose labels never run together or off the frame, a margin around the outermost
    marks, and a scale bar. Town squares and names are drawn over the dots, so a town is never hidden.
    Text uses the page's colour (currentColor), so it suits dark mode. `css`: the svg's class."""
    across = _crosses_180([p[2] for p in points] + [t[2] for t in towns])

    def east_of(lon):  # photos either side of 180° stay side by side
        return lon + 360 if across and lon < 0 else lon

    lats = [p[1] for p in points] + [t[1] for t in towns]
    lons = [east_of(p[2]) for p in points] + [east_of(t[2]) for t in towns]
    mid_lat, mid_lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    k = max(math.cos(math.radians(mid_lat)), 0.05)  # east-west degrees shrink with latitude
    pad = 1.1  # 5 % of the span on every side, and MARGIN units beyond it
    span_y = max(max(lats) - min(lats), MIN_SPAN_DEG) * pad
    span_x = max((max(lons) - min(lons)) * k, MIN_SPAN_DEG) * pad
    scale = min((width - 2 * MARGIN) / span_x, (max_height - 2 * MARGIN) / span_y)  # units per degree of latitude
    height = max(MAP_MIN_HEIGHT, span_y * scale + 2 * MARGIN)

    def xy(lat, lon):
        return width / 2 + (east_of(lon) - mid_lon) * k * scale, height / 2 - (lat - mid_lat) * scale

    # The scale bar sits in a strip under the map, where no dot or label can be.
    parts = [f"<svg class='obs-map-svg {css}' viewBox='0 0 {width} {height + SCALE_STRIP:.0f}' role='img' "
             f"aria-label='Map of {len(points)} photo positions' xmlns='http://www.w3.org/2000/svg' "
             f"font-family='sans-serif' font-size='{FONT}'>",
             f"<rect x='0.5' y='0.5' width='{width - 1}' height='{height - 1:.0f}' fill='none' stroke='currentColor' "
             f"stroke-opacity='0.3'/>"]
    # Faint grid lines of latitude and longitude, spaced so their labels never touch, labelled inside the frame.
    half_lat, half_lon = height / 2 / scale, width / 2 / (scale * k)
    step = _nice_up(max(2 * half_lat / 5, 2.5 * TICK_FONT / scale))
    for lat in _steps(mid_lat - half_lat, mid_lat + half_lat, step):
        _, y = xy(lat, mid_lon)
        label = _degrees(lat, step, 'N', 'S')
        text = "" if y - 3 - TICK_FONT < 2 else (f"<text x='4' y='{y - 3:.1f}' font-size='{TICK_FONT}' "
                                                  f"fill='currentColor' fill-opacity='0.6'>{label}</text>")
        parts.append(f"<line x1='0' x2='{width}' y1='{y:.1f}' y2='{y:.1f}' stroke='currentColor' "
                     f"stroke-opacity='0.12'/>{text}")
    widest = 0.6 * TICK_FONT * len(_degrees(mid_lon + half_lon, _nice(2 * half_lon / 4), 'E', 'W')) + 16
    step = _nice_up(max(2 * half_lon / 5, widest / (scale * k)))
    for lon in _steps(mid_lon - half_lon, mid_lon + half_lon, step):
        x, _ = xy(mid_lat, lon)
        label = _degrees((lon + 180) % 360 - 180, step, 'E', 'W')
        fits = x + 3 + 0.6 * TICK_FONT * len(label) < width - 2
        text = (f"<text x='{x + 3:.1f}' y='{TICK_FONT + 3}' font-size='{TICK_FONT}' fill='currentColor' "
                f"fill-opacity='0.6'>{label}</text>") if fits else ""
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='0' y2='{height:.0f}' stroke='currentColor' "
                     f"stroke-opacity='0.12'/>{text}")
    parts.append(_scale_bar(scale, height + SCALE_STRIP, width))
    # Town names are placed first (they are never left out); a dot's number that would cover a label is left out
    # (the dot stays, and its number is in its tooltip).
    placed: list[tuple[float, float, float, float]] = []
    town_marks = []
    for name, lat, lon in towns:
        x, y = xy(lat, lon)
        town_marks.append(f"<rect x='{x - 5:.1f}' y='{y - 5:.1f}' width='10' height='10' fill='none' stroke='{TOWN}' "
                          f"stroke-width='2.5'/>" + _label(name, x, y, width, placed, opacity=0.85, always=True))
    numbered = len(points) <= MAP_NUMBERS
    for number, lat, lon, title in points:
        x, y = xy(lat, lon)
        label = _label(str(number), x, y, width, placed, above=True) if numbered else ""
        parts.append(f"<g><title>{_e(title)}</title><circle cx='{x:.1f}' cy='{y:.1f}' r='5' fill='{DOT}' "
                     f"stroke='white' stroke-width='1.5'/>{label}</g>")
    parts += town_marks  # over the dots: a town under a photo's dot still shows
    parts.append("</svg>")
    return "".join(parts)


def _label(text: str, x: float, y: float, width: float, placed: list, opacity: float = 1.0,
           above: bool = False, always: bool = False) -> str:
    """SVG text for a mark at (x, y): centred above it (`above`), else beside it on its right, its left, below or
    above, the first that overlaps no label in `placed` (boxes estimated from the length of the text) and stays
    inside the frame. "" when none does, unless `always` (a town's name), which then takes its first place.
    The text has a halo of the page's background (page.css), so it reads over grid lines and dots."""
    w, h = 0.6 * FONT * len(text), FONT
    if above:
        spots = [(x - w / 2, y - 8, "middle", x)]
    else:
        spots = [(x + 8, y + 4, "start", x + 8), (x - 8 - w, y + 4, "end", x - 8),
                 (x - w / 2, y + 8 + h, "middle", x), (x - w / 2, y - 9, "middle", x)]
        spots = [s for s in spots if s[0] >= 2 and s[0] + w <= width - 2] or spots[1:2]

    def free(box):
        return not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)
    chosen = next((s for s in spots if free((s[0], s[1] - h, s[0] + w, s[1]))), spots[0] if always else None)
    if chosen is None:
        return ""
    x0, baseline, anchor, at = chosen
    placed.append((x0, baseline - h, x0 + w, baseline))
    shade = f" fill-opacity='{opacity}'" if opacity < 1 else ""
    return (f"<text class='obs-map-label' x='{at:.1f}' y='{baseline:.1f}' font-size='{FONT}' fill='currentColor' "
            f"text-anchor='{anchor}'{shade}>{_e(text)}</text>")


def _crosses_180(lons) -> bool:
    """Whether the longitudes sit closer together counted eastwards across 180° (Fiji, the Aleutians)."""
    if not lons or max(lons) - min(lons) <= 180:
        return False
    shifted = [x + 360 if x < 0 else x for x in lons]
    return max(shifted) - min(shifted) < max(lons) - min(lons)


def _steps(lo: float, hi: float, step: float):
    """Multiples of `step` strictly between lo and hi."""
    i = math.floor(lo / step) + 1
    while i * step < hi:
        yield i * step
        i += 1


def _nice_up(x: float) -> float:
    """The 1, 2 or 5 × 10^n nearest above x (a grid step at least this wide)."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    return min(m * 10 ** p for p in (e, e + 1) for m in (1, 2, 5) if m * 10 ** p >= x)


def _nice(x: float) -> float:
    """The 1, 2 or 5 × 10^n nearest below x."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    return max(m * 10 ** e for m in (1, 2, 5) if m * 10 ** e <= x)


def _degrees(value: float, step: float, plus: str, minus: str) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{abs(value):.{decimals}f}°{NBSP}{plus if value >= 0 else minus}" if round(value, decimals) else "0°"


def _scale_bar(scale: float, bottom: float, width: float = MAP_WIDTH) -> str:
    """A bar of a round number of kilometres, about a fifth of the map wide, at the bottom right."""
    units_per_km = scale / KM_PER_DEG
    km = _nice(width / 5 / units_per_km)
    length = km * units_per_km
    words = f"{km:g}{NBSP}km" if km >= 1 else f"{km * 1000:g}{NBSP}m"
    right, y = width - 12, bottom - 8
    return (f"<line x1='{right - length:.1f}' x2='{right}' y1='{y:.1f}' y2='{y:.1f}' stroke='currentColor' "
            f"stroke-width='3'/><text x='{right - length - 6:.1f}' y='{y + 4:.1f}' font-size='12' "
            f"fill='currentColor' text-anchor='end'>{words}</text>")


def _e(text) -> str:
    return html.escape(str(text), quote=True)
