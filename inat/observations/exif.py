"""When and where a photo was taken, from its EXIF: date, local time, UTC offset, GPS position.

Only what the camera wrote is used, and only if it makes sense: a field that is missing, blank,
malformed or impossible (a zero denominator, minutes ≥ 60, latitude beyond 90°, a date in the
future, the 0°, 0° of a GPS without a fix) comes back as None. Nothing here raises for a bad
photo, and nothing decodes pixels: Pillow's `open` reads headers only.

Which fields, and why:
- The moment of the observation is EXIF DateTimeOriginal (when the shutter fired), with
  OffsetTimeOriginal, its own time zone. DateTimeDigitized is not used: for a scanned slide it is
  the day of the scan. DateTime (0x0132) is the last edit and is never used.
- `time_observed_at` is ISO 8601 as iNaturalist's API gives it, with the offset when EXIF gives one
  (OffsetTimeOriginal): "2024-05-04T09:15:30-07:00". Without it the camera's local time is given
  without an offset, "2024-05-04T09:15:30" (ISO 8601's local time: never to be read as UTC), rather
  than leaving a known time empty; `observed_on_string` keeps the date-time as it was recorded.
- GPS comes from the GPS IFD: degrees/minutes/seconds rationals with N/S/E/W references
  (south and west negative). A coordinate without its reference is unknown, not positive.
"""
from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

from ..core.images import _register_heif

# EXIF tag numbers (CIPA DC-008); Pillow's ExifTags has them too, but the numbers are the spec.
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_STATUS, GPS_H_ERROR = 0x01, 0x02, 0x03, 0x04, 0x09, 0x1F

# Real UTC offsets run from -12:00 to +14:00.
_MAX_OFFSET_MINUTES = 14 * 60
# How far past now a photo's time may be before it counts as a broken clock (see _when).
_FUTURE_SLACK = timedelta(days=1)
_DATETIME = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


@dataclass(frozen=True)
class PhotoMetadata:
    """What EXIF says about when and where; every field None when unknown.

    observed_on: ISO date "2024-05-04" (camera-local day).
    observed_on_string: local date-time "2024-05-04 09:15:30" as the camera clock showed it.
    time_observed_at: ISO 8601 "2024-05-04T09:15:30-07:00" with the offset when EXIF gives it
        (OffsetTimeOriginal), else the local time without one, "2024-05-04T09:15:30".
    latitude, longitude: decimal degrees, south and west negative (6 decimals, ~0.1 m).
    positional_accuracy: GPS horizontal error in metres (GPSHPositioningError), when written.
    """

    observed_on: str | None = None
    observed_on_string: str | None = None
    time_observed_at: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    positional_accuracy: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def photo_metadata(source) -> PhotoMetadata:
    """The date, time and position EXIF gives for a photo (path, bytes, file object or PIL image).

    Returns an empty PhotoMetadata for a photo without EXIF, and also for an unreadable file:
    reporting that is the predictor's job, and this must never stop a batch.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about odd EXIF (read lazily); every field is checked
        exif = _guarded(_read_exif, source, None)
        if exif is None:
            return PhotoMetadata()
        # Separately, so that a GPS block a parser chokes on still leaves the date.
        return PhotoMetadata(**_guarded(_when, exif, {}), **_guarded(_where, exif, {}))


def _guarded(read, arg, empty):
    try:
        return read(arg)
    except Exception:  # any parser error in any Pillow plugin: we know nothing, which is an answer
        return empty


# -- reading the EXIF block without decoding pixels -------------------------------------------------
def _read_exif(source) -> Image.Exif | None:
    if isinstance(source, Image.Image):
        return _exif_of(source, None)
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif isinstance(source, (str, Path)) and not Path(source).is_file():
        return None
    _register_heif()
    with Image.open(source) as im:
        return _exif_of(im, source)


def _exif_of(im: Image.Image, source) -> Image.Exif | None:
    if im.format == "PNG":
        # PngImageFile.getexif() decodes the whole image to find an eXIf chunk after the pixels;
        # the base method reads what came before them, and the chunk walk finds a later one cheaply.
        exif = Image.Image.getexif(im)
        if not len(exif) and source is not None:
            raw = _png_exif_chunk(source)
            if raw:
                exif = Image.Exif()
                exif.load(raw)
        return exif
    return im.getexif()  # JPEG/WebP/HEIF: the block read with the headers; TIFF: its own IFDs


def _png_exif_chunk(source) -> bytes | None:
    """The eXIf chunk of a PNG, wherever it is, by skipping from chunk header to chunk header."""
    fp = open(source, "rb") if isinstance(source, (str, Path)) else source
    try:
        fp.seek(8)  # the PNG signature
        while True:
            head = fp.read(8)
            if len(head) < 8:
                return None
            length, kind = struct.unpack(">I4s", head)
            if kind == b"eXIf":
                return fp.read(length)
            if kind == b"IEND":
                return None
            fp.seek(length + 4, io.SEEK_CUR)  # data and CRC
    finally:
        if fp is not source:
            fp.close()


# -- when ---------------------------------------------------------------------------------------
def _when(exif: Image.Exif) -> dict:
    sub = _ifd(exif, EXIF_IFD)
    # Some writers put DateTimeOriginal in IFD0; the tag means the same wherever it sits.
    local = _parse_datetime(sub.get(DATETIME_ORIGINAL, exif.get(DATETIME_ORIGINAL)))
    if local is None:
        return {}
    offset = _parse_offset(sub.get(OFFSET_TIME_ORIGINAL))
    aware = local.replace(tzinfo=offset) if offset is not None else None
    # A date in the future is a broken clock (iNat refuses those too). The day of slack covers any
    # time zone for a local time, and a camera clock that runs a little fast.
    limit = datetime.now(timezone.utc) + _FUTURE_SLACK
    if (aware or local.replace(tzinfo=timezone.utc)) > limit:
        return {}
    return {"observed_on": local.date().isoformat(),
            "observed_on_string": local.strftime("%Y-%m-%d %H:%M:%S"),
            "time_observed_at": (aware or local).isoformat()}


def _parse_datetime(value) -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" (also with - or / and T, as some writers do) → naive datetime."""
    text = _text(value)
    m = _DATETIME.match(text) if text else None
    if not m:
        return None  # blank ("    :  :  "), zeros, or garbage
    try:
        return datetime(*map(int, m.groups()))
    except ValueError:  # month 13, day 0, 25 o'clock, year 0000...
        return None


def _parse_offset(value) -> timezone | None:
    """"+02:00" / "-0700" → timezone; anything else (blank, ±99:00, text) → None."""
    text = _text(value)
    m = _OFFSET.match(text) if text else None
    if not m:
        return None
    sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3))
    total = hours * 60 + minutes
    if minutes >= 60 or total > _MAX_OFFSET_MINUTES:
        return None
    return timezone(timedelta(minutes=-total if sign == "-" else total))


# -- where --------------------------------------------------------------------------------------
def _where(exif: Image.Exif) -> dict:
    gps = _ifd(exif, GPS_IFD)
    if not gps or _text(gps.get(GPS_STATUS)).upper() == "V":  # "V": measurement void (no fix)
        return {}
    lat = _coordinate(gps.get(GPS_LAT), gps.get(GPS_LAT_REF), "NS", 90.0)
    lon = _coordinate(gps.get(GPS_LON), gps.get(GPS_LON_REF), "EW", 180.0)
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):
        # Half a position is no position; 0°, 0° is what receivers without a fix write.
        return {}
    out = {"latitude": round(lat, 6), "longitude": round(lon, 6)}
    error = _number(gps.get(GPS_H_ERROR))
    if error is not None and 0 <= error < 1e7:
        out["positional_accuracy"] = round(error, 1)
    return out


def _coordinate(value, ref, refs: str, limit: float) -> float | None:
    """GPS (degrees, minutes, seconds) rationals and their N/S or E/W reference → signed degrees."""
    ref = _text(ref).upper()
    if ref not in refs or len(ref) != 1:
        return None  # no hemisphere: the sign is unknown
    if not isinstance(value, (tuple, list)):
        value = (value,)  # some writers store decimal degrees as one rational
    parts = [_number(v) for v in value]
    if not 1 <= len(parts) <= 3 or any(p is None or p < 0 for p in parts):
        return None
    degrees, minutes, seconds = (parts + [0.0, 0.0])[:3]
    if minutes > 60 or seconds > 60:  # exactly 60 is a writer's rounding (59.9996 → 60), not garbage
        return None
    total = degrees + minutes / 60 + seconds / 3600
    if total > limit:
        return None
    return -total if ref == refs[1] else total


def _number(value) -> float | None:
    """An EXIF rational or integer as a finite float; zero denominators, text and NaN → None."""
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return x if x == x and abs(x) != float("inf") else None


# -- helpers ------------------------------------------------------------------------------------
def _ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # a sub-IFD pointer into nowhere, or a loop
        return {}


def _text(value) -> str:
    """An EXIF ASCII value as text: bytes decoded, NULs and padding stripped; non-text → ""."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii", "replace")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()
