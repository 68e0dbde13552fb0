"""The Observations tab: many photos in, one row each (date, place, species), a map and the CSV file.

The rows are `inat.observations.table` rows, the ones `python -m inat predict --csv` writes, and the CSV is
written by the same `write_csv`; this module only adapts them for the page. Two things differ from the
command line, both because the files are uploads: a row's `file` is the name the photo had on the
uploader's machine (never the server's temporary path), and a photo that cannot be used says why in
the page's plain sentence (`views.photo_problem`) instead of the technical reason.

No Gradio here: `observe` runs a Predictor over files and the other functions turn rows into HTML, so
every piece is tested without a browser; `inat.app.observations_tab` wires them to the tab.

The map is a sketch drawn here as SVG, with no background map: tiles would come from a map server, and
positions must not leave the machine. Dots are the photos (numbered as in the table) on an
equirectangular grid of latitude and longitude, with a scale bar, and grey squares mark the GeoNames
towns their place names refer to, which is what gives the dots their geography.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
import shutil
import tempfile
import time
from pathlib import Path

from PIL import ImageOps

from ..core.images import ImageError, open_image
from ..observations.places import FAR_KM, nearest_place
from ..observations.table import observation_rows, write_csv
from .views import NBSP, everyday, naming_hint, pct, photo_problem, worth_listing

MAX_PHOTOS = 200     # photos a batch; measured against the command line at this size (benchmarks/README.md)
BATCH_SIZE = 16      # photos per forward pass, as `predict`'s default
TOP_K = 5            # classes each record keeps, as `predict`'s default
THUMB_PX = 96        # thumbnail side in pixels: sharp at the 48-56 CSS px it is shown at on a 2x screen
THUMB_QUALITY = 70   # JPEG quality of a thumbnail: about 3 KB each, 600 KB for a full batch
CSV_NAME = "observations.csv"
CSV_MAX_AGE_S = 3600  # CSV folders older than this are deleted when a new one is made
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

LIMIT_NOTE = (f"Up to {MAX_PHOTOS} photos at a time (JPEG, PNG, WebP or HEIC). Dates and positions come from "
              f"the photos' EXIF.")
PRIVACY_NOTE = ("Place names are computed offline on the machine running this app: positions are sent to no "
                "map or geocoding service.")
TABLE_PLACEHOLDER = "<p>The table appears here once the photos are identified.</p>"
NO_FILES = "Choose some photos first: drop them on the box above or click it to browse."


def batch_problem(count: int) -> str | None:
    """The sentence refusing a batch of `count` files (none, or more than MAX_PHOTOS), or None when fine."""
    if count == 0:
        return NO_FILES
    if count > MAX_PHOTOS:
        return (f"Up to {MAX_PHOTOS} photos at a time: you chose {count}, so please send them in batches of "
                f"{MAX_PHOTOS} or fewer.")
    return None


def files_label(count: int) -> str:
    """The upload box's label: how many photos are chosen (the box itself shows only a few of them)."""
    if count == 0:
        return f"Photos (up to {MAX_PHOTOS}): drop them here or click to choose"
    return f"Photos: {count} chosen" + (f" (only {MAX_PHOTOS} at a time)" if count > MAX_PHOTOS else "")


def upload_order(paths) -> list[str]:
    """The uploaded files' paths in the order of their own names (as `predict DIR` sorts a folder), so a
    table never depends on the order a browser sent them in."""
    return sorted((str(p) for p in paths), key=lambda p: (Path(p).name.lower(), Path(p).name, p))


def observe(predictor, paths, progress=None, options=()) -> tuple[list[dict], list[str | None], list[str | None]]:
    """Identify photo files with `predictor`; returns (rows, thumbnails, hints), one of each per path in order.

    Rows are `page_rows` of the predictor's records; thumbnails are `thumbnail_uri`s (None for a file
    that cannot be used); hints are the card's "To name it" sentence for a row that stops short of a species
    (`views.naming_hint` with `options`, `inat.app.about.naming_options`), else None. `progress(done, total, what)`,
    when given, is told after each batch of photos identified and of thumbnails made. A file that cannot be used
    gets its row with the reason; the others go on.
    """
    paths = [str(p) for p in paths]
    n = len(paths)
    tell = progress or (lambda done, total, what: None)
    tell(0, n, "Identifying photos")
    records = predictor.predict(paths, k=TOP_K, batch_size=BATCH_SIZE,
                                progress=lambda done: tell(done, n, "Identifying photos"))
    rows = page_rows([r.to_json() for r in records])
    shared = predictor.tree.shared() if options else ()
    hints = [None if r.error or not options else naming_hint(r, shared, options) for r in records]
    thumbs = []
    for i, p in enumerate(paths):
        thumbs.append(None if rows[i]["error"] else thumbnail_uri(p))
        if (i + 1) % BATCH_SIZE == 0 or i + 1 == n:  # each call is a message to the browser: not one a photo
            tell(i + 1, n, "Making thumbnails")
    return rows, thumbs, hints


def page_rows(records) -> list[dict]:
    """`inat.observations.table.observation_rows` of records whose `image` is an uploaded file, with `file` its
    own name (no server path) and `error` the page's one sentence for a file that cannot be used."""
    rows = observation_rows(records)
    for row in rows:
        name = Path(row["file"]).name
        row["file"] = name
        if row["error"]:
            row["error"] = photo_problem(name, row["error"])
    return rows


def thumbnail_uri(path, size: int = THUMB_PX) -> str | None:
    """A `size`-pixel square JPEG of the photo's centre as a data: URI, upright as the photo was taken,
    or None when it cannot be read. JPEGs decode at a reduced scale, so this costs little."""
    try:
        im = open_image(path, draft_size=size)
    except ImageError:
        return None
    im = ImageOps.fit(im, (size, size))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def write_observations_csv(rows, folder=None) -> Path:
    """Write rows with `inat.observations.table.write_csv` (the columns of `predict --csv`) to
    `folder`/observations.csv; without `folder`, to a fresh folder of its own under the temporary
    directory (two users never share a file; folders older than CSV_MAX_AGE_S are removed). Returns the path."""
    if folder is None:
        folder = _fresh_folder()
    return write_csv(rows, Path(folder) / CSV_NAME)


def _fresh_folder() -> Path:
    root = Path(tempfile.gettempdir())
    cutoff = time.time() - CSV_MAX_AGE_S
    for old in root.glob("inat-observations-*"):
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # another request removed it first
    return Path(tempfile.mkdtemp(prefix="inat-observations-"))


# -- words ---------------------------------------------------------------------------------------
def model_line(name: str | None) -> str:
    """The line saying which model the tab uses (the one picked on the Identify tab)."""
    if not name:
        return "No model is installed, so photos cannot be identified."
    return f"Photos are identified with the **{html.escape(name, quote=False)}** model, chosen on the Identify tab."


def summary_markdown(rows) -> str:
    """One line over the table: how many photos, how many identified or refused, with a date, a position."""
    n = len(rows)
    failed = sum(1 for r in rows if r["error"])
    dated = sum(1 for r in rows if r["observed_on"])
    placed = sum(1 for r in rows if r["latitude"] is not None and r["longitude"] is not None)
    head = f"**{n} photo{'s' if n != 1 else ''}**: {n - failed} identified"
    head += f", {failed} could not be used" if failed else ""
    return f"{head}. {dated} with a date and {placed} with a position in their EXIF."


# -- the table -----------------------------------------------------------------------------------
def table_html(rows, thumbs=None, hints=None) -> str:
    """The results as an HTML table: number, thumbnail and file name, date, place, species, probability.

    `hints`: per row, the sentence saying which model would name what this one stops short of (`observe`), shown
    under its species. Everything that comes from a file (its name, its EXIF's place) or a bundle (names) is escaped."""
    thumbs = list(thumbs) if thumbs is not None else [None] * len(rows)
    hints = list(hints) if hints is not None else [None] * len(rows)
    head = ("<thead><tr><th scope='col'>#</th><th scope='col'>Photo</th><th scope='col'>Date</th>"
            "<th scope='col'>Place</th><th scope='col'>Species</th><th scope='col'>Probability</th></tr></thead>")
    body = "".join(_table_row(i, r, t, h) for i, (r, t, h) in enumerate(zip(rows, thumbs, hints), 1))
    return f"<div class='obs-table-wrap'><table class='obs-table'>{head}<tbody>{body}</tbody></table></div>"


def _table_row(i: int, r: dict, thumb: str | None, hint: str | None = None) -> str:
    name = _e(r["file"])
    img = (f"<img src='{thumb}' alt='{name}' width='56' height='56' loading='lazy'>" if thumb else
           "<span class='obs-nothumb' aria-hidden='true'></span>")
    species, probability = _species_cells(r)
    if hint:
        species += f"<br>{_hint_span(hint)}"
    date, place = _date_cell(r), _place_cell(r)
    # "obs-none" marks an empty cell, which a phone leaves out (page.css lays rows out as cards there).
    return (f"<tr><td class='obs-n'>{i}</td><td class='obs-photo'>{img}<span class='obs-file'>{name}</span></td>"
            f"<td class='obs-date{' obs-none' if date == '—' else ''}'>{date}</td>"
            f"<td class='obs-place{' obs-none' if place == '—' else ''}'>{place}</td>"
            f"<td class='obs-species'>{species}</td><td class='obs-p'>{probability}</td></tr>")


def _date_cell(r: dict) -> str:
    if not r["observed_on"]:
        return "—"
    time_of_day = (r.get("observed_on_string") or "")[11:16]  # "2024-05-04 09:15:30" → "09:15"
    return _e(r["observed_on"]) + (f" <br><span class='obs-sub'>{_e(time_of_day)}</span>" if time_of_day else "")


def _place_cell(r: dict) -> str:
    if r["place_guess"]:
        return _e(r["place_guess"])
    if r["latitude"] is not None and r["longitude"] is not None:  # far from any town: the position itself
        return f"{r['latitude']:.4f}, {r['longitude']:.4f}"
    return "—"


def _species_cells(r: dict) -> tuple[str, str]:
    """(species cell, probability cell) in HTML. It leads with the taxon the model is sure of (the CSV's
    scientific_name, with its probability in the next cell), then, when that is above species, its best guess in
    words: "A bird — most likely Bald eagle, 26 %". Without a sure taxon, the best guess is given as such."""
    if r["error"]:
        return f"<span class='obs-error'>{_e(r['error'])}</span>", "—"
    guess_p = r["species_guess_probability"]
    guess = _e(r["species_guess_common_name"] or r["species_guess"] or "")
    if guess and not r["species_guess_common_name"]:
        guess = f"<i>{guess}</i>"
    worth = guess and guess_p is not None and worth_listing(guess_p)
    if r["scientific_name"]:
        rank, sci = r["taxon_rank"], r["scientific_name"]
        where = _taxon_html(rank, sci) if rank == "species" else f"{_e(rank)} {_taxon_html(rank, sci)}"
        if rank == "species":
            words = r["common_name"]
            text = f"{_e(words)}<br><span class='obs-sub'>{where}</span>" if words else where
        else:
            words = _e(_cap(everyday(sci) or r["common_name"] or f"{rank} {sci}"))
            lead = f"{words} — most likely {guess}, {pct(guess_p)}" if worth else words
            text = f"{lead}<br><span class='obs-sub'>sure of {where}</span>"
        return text, pct(r["probability"])
    if r["species_guess"]:
        lead = "Outside what this model knows" if r["in_scope"] is False else "Not sure"
        return (f"{lead}<br><span class='obs-sub'>best guess {guess}</span>",
                f"<span class='obs-sub'>{pct(guess_p)}</span>")
    return "Not sure", "—"


def _hint_span(sentence: str) -> str:
    """A row's "To name it" line, brief: the command alone when the sentence gives one (the whole sentence is its
    tooltip, as the card says it), else the sentence ("pick the model plants47 …")."""
    commands = sentence.split("`")[1::2] if sentence.count("`") >= 2 else []
    if not commands:
        return f"<span class='obs-hint'>To name it: {hint_html(sentence)}</span>"
    return (f"<span class='obs-hint' title='{_e(_plain(sentence))}'>To name it: "
            f"<code>{_e(commands[0])}</code></span>")


def _plain(sentence: str) -> str:
    """A card's Markdown sentence as plain text (no backticks, no backslash escapes)."""
    return re.sub(r"\\([\\`*_\[\]<>|#])", r"\1", sentence).replace("`", "")


def hint_html(sentence: str) -> str:
    """A card's Markdown sentence ("install … : `python -m inat download inat2017-birds`, then …") as HTML for a
    table cell: code spans in <code>, Markdown's backslash escapes dropped, everything else escaped."""
    parts = sentence.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # inside a code span (an unmatched backtick leaves the rest as text)
            out.append(f"<code>{_e(part)}</code>" if i < len(parts) - 1 else _e("`" + part))
        else:
            out.append(_e(re.sub(r"\\([\\`*_\[\]<>|#])", r"\1", part)))
    return "".join(out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_ABOVE_GENUS = ("kingdom", "phylum", "class", "order", "family")


def _taxon_html(rank: str, name: str) -> str:
    """Genus and species names (and below) italic, as iNaturalist writes them."""
    return _e(name) if rank in _ABOVE_GENUS else f"<i>{_e(name)}</i>"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


# -- the map ---------------------------------------------------------------------------------------
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
