"""The Observations tab: many photos in, one row each (date, place, species), a map and the CSV file.

The rows are `inat.observations.table` rows, the ones `python -m inat predict --csv` writes, and the CSV is
written by the same `write_csv`; this module only adapts them for the page. Two things differ from the
command line, both because the files are uploads: a row's `file` is the name the photo had on the
uploader's machine (never the server's temporary path), and a photo that cannot be used says why in
the page's plain sentence (`views.photo_problem`) instead of the technical reason.

No Gradio here: `observe` runs a Predictor over files and the other functions turn rows into HTML, so
every piece is tested without a browser; `inat.app.observations_tab` wires them to the tab.

The map of the day is `inat.app.sketch_map`'s.
"""
from __future__ import annotations

import base64
import html
import io
import re
import shutil
import tempfile
import time
from pathlib import Path

from PIL import ImageOps

from ..core.images import ImageError, open_image
from ..observations.table import observation_rows, write_csv
from .views import everyday, naming_hint, pct, photo_problem, worth_listing

MAX_PHOTOS = 200     # photos a batch; measured against the command line at this size (benchmarks/README.md)
BATCH_SIZE = 16      # photos per forward pass, as `predict`'s default
TOP_K = 5            # classes each record keeps, as `predict`'s default
THUMB_PX = 96        # thumbnail side in pixels: sharp at the 48-56 CSS px it is shown at on a 2x screen
THUMB_QUALITY = 70   # JPEG quality of a thumbnail: about 3 KB each, 600 KB for a full batch
CSV_NAME = "observations.csv"
CSV_MAX_AGE_S = 3600  # CSV folders older than this are deleted when a new one is made

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
