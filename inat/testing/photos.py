"""The photos tests use: gradio's sample photos, generated photo-like pictures, and EXIF blocks.

    sample_photo("lion.jpg")     a real photo shipped with gradio (lion.jpg, cheetah.jpg, tower.jpg)
    picture(seed, size, grain)   a generated photo-like picture (smooth colour fields, optional grain)
    huge_photo(path)             a large valid JPEG (about 24 MP), as a phone uploads it
    exif_block(...), ...         EXIF dates and GPS positions written as phones and cameras write them
    geotagged_day(folder)        a day's uploads: real photos with EXIF dates and GPS, one without EXIF, a broken file
"""
from __future__ import annotations

import importlib.util
import io
import shutil
import struct
from pathlib import Path

import numpy as np
from PIL import Image

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
PHOTOS = ("lion.jpg", "cheetah.jpg", "tower.jpg")  # the app's examples; the tower is not an organism


def sample_photo(name: str) -> str:
    """Path of a photo shipped with gradio, the file `gradio.media.get_image(name)` returns.

    Found in gradio's package folder without importing gradio (that takes seconds);
    tests/test_app_page.py checks it is get_image's file.
    """
    spec = importlib.util.find_spec("gradio")
    path = Path(next(iter(spec.submodule_search_locations))) / "media_assets" / "images" / name
    assert path.is_file(), f"gradio ships no {name}"
    return str(path)


def dms(value: float) -> tuple[float, float, float]:
    """Unsigned decimal degrees → (degrees, minutes, seconds), as the GPS IFD stores them."""
    seconds = round(abs(value) * 3600, 3)
    d, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return float(d), float(m), round(s, 3)


def exif_block(when: str | None = "2024:05:04 09:15:30", offset: str | None = "-07:00",
               lat: float | None = None, lon: float | None = None, *, accuracy: float | None = None,
               gps: dict | None = None, exif_ifd: dict | None = None, ifd0: dict | None = None) -> Image.Exif:
    """An EXIF block: DateTimeOriginal/OffsetTimeOriginal in the Exif IFD and a GPS IFD with
    N/S/E/W references; `gps`, `exif_ifd` and `ifd0` add or override raw tags (for malformed ones)."""
    ex = Image.Exif()
    ex[0x0110] = "Test camera"
    sub = ex.get_ifd(EXIF_IFD)
    if when is not None:
        sub[0x9003] = when
    if offset is not None:
        sub[0x9011] = offset
    sub.update(exif_ifd or {})
    g = ex.get_ifd(GPS_IFD)
    if lat is not None:
        g.update({0: b"\x02\x02\x00\x00", 1: "N" if lat >= 0 else "S", 2: dms(lat)})
    if lon is not None:
        g.update({3: "E" if lon >= 0 else "W", 4: dms(lon)})
    if accuracy is not None:
        g[31] = accuracy
    g.update(gps or {})
    ex.update(ifd0 or {})
    return ex


def picture(seed: int = 0, size=(96, 72), grain: float = 0.0) -> Image.Image:
    """A photo-like RGB image of `size` (w, h): smooth colour fields, plus Gaussian grain of that std."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    if grain:
        noisy = np.asarray(im) + rng.normal(0, grain, (size[1], size[0], 3))
        im = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return im


def huge_photo(path: Path, size=(5600, 4200)) -> Path:
    """A large valid JPEG (about 24 MP, a few MB): smooth gradients plus mild noise, like a photo."""
    w, h = size
    rng = np.random.default_rng(0)
    a = np.empty((h, w, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, w, dtype=np.float32).astype(np.uint8)[None, :]
    a[..., 1] = np.linspace(255, 0, h, dtype=np.float32).astype(np.uint8)[:, None]
    a[..., 2] = 90
    a += rng.integers(0, 12, (h, w, 3), dtype=np.uint8)
    Image.fromarray(a).save(path, quality=90)
    return path


def save_with_exif(path, exif: Image.Exif | None, fmt: str | None = None, seed: int = 0) -> Path:
    """A generated photo saved to `path` (format from the suffix unless given) with `exif`."""
    path = Path(path)
    kw = {"exif": exif} if exif is not None else {}
    picture(seed).save(path, fmt, **kw)
    return path


def add_exif_to_jpeg(src, dst, exif: Image.Exif) -> Path:
    """Copy a real JPEG with an EXIF APP1 segment spliced in after SOI: its pixels stay untouched."""
    data = Path(src).read_bytes()
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    payload = exif.tobytes()
    if not payload.startswith(b"Exif\x00\x00"):
        payload = b"Exif\x00\x00" + payload
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    Path(dst).write_bytes(data[:2] + segment + data[2:])
    return Path(dst)


def png_with_exif_after_pixels(path, exif: Image.Exif) -> Path:
    """A PNG whose eXIf chunk comes after the image data (allowed by older writers)."""
    buf = io.BytesIO()
    picture().save(buf, "PNG")
    data = buf.getvalue()
    iend = data.rindex(b"IEND") - 4
    raw = exif.tobytes()
    raw = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    import zlib
    chunk = struct.pack(">I", len(raw)) + b"eXIf" + raw + struct.pack(">I", zlib.crc32(b"eXIf" + raw))
    Path(path).write_bytes(data[:iend] + chunk + data[iend:])
    return Path(path)


def raw_gps_exif(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """An EXIF block (big-endian TIFF) whose GPS IFD holds exactly `entries`:
    (tag, TIFF type, count, value bytes). For types and values Pillow refuses to write
    (text where rationals belong, signed rationals, ...)."""
    def ifd(items, start):
        # Entries are 12 bytes; values over 4 bytes go after the IFD, at offsets from `start`.
        head, tail = struct.pack(">H", len(items)), b""
        data_at = start + 2 + 12 * len(items) + 4
        for tag, typ, count, value in items:
            if len(value) <= 4:
                head += struct.pack(">HHI", tag, typ, count) + value.ljust(4, b"\x00")
            else:
                head += struct.pack(">HHII", tag, typ, count, data_at + len(tail))
                tail += value + b"\x00" * (len(value) % 2)
        return head + b"\x00\x00\x00\x00" + tail

    ifd0 = ifd([(GPS_IFD, 4, 1, struct.pack(">I", 26))], 8)  # 8 + 2 + 12 + 4 = 26: the GPS IFD follows
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", 8) + ifd0 + ifd(entries, 26)


def rationals(*pairs, signed: bool = False) -> bytes:
    return b"".join(struct.pack(">ii" if signed else ">II", n, d) for n, d in pairs)


# (file, source photo, EXIF date, offset, latitude, longitude, the town its place must name)
TRIP = [
    ("IMG_0001.jpg", "lion.jpg", "2024:05:04 09:15:30", "-07:00", 36.9741, -122.0308, "Santa Cruz"),
    ("IMG_0002.jpg", "cheetah.jpg", "2024:05:04 11:02:11", "-07:00", 37.0447, -122.1072, "Felton"),
    ("img_0003.png", None, "2024:05:04 16:45:00", None, -33.9249, 18.4241, "Cape Town"),
]


def geotagged_day(folder) -> list[str]:
    """The trip's photos (real JPEGs with EXIF spliced in, a generated PNG), a real photo without EXIF and a
    broken file, as an upload would give them (each in its own folder, as Gradio stores uploads)."""
    folder = Path(folder)
    paths = []
    for i, (name, source, when, offset, lat, lon, _) in enumerate(TRIP):
        (folder / str(i)).mkdir(parents=True)
        exif = exif_block(when, offset, lat, lon)
        path = folder / str(i) / name
        if source:
            add_exif_to_jpeg(sample_photo(source), path, exif)
        else:
            save_with_exif(path, exif)
        paths.append(str(path))
    (folder / "3").mkdir()
    paths.append(shutil.copy(sample_photo("tower.jpg"), folder / "3" / "tower.jpg"))  # no EXIF
    (folder / "4").mkdir()
    broken = folder / "4" / "broken.jpg"
    broken.write_bytes(Path(sample_photo("lion.jpg")).read_bytes()[:2000])
    paths.append(str(broken))
    return [str(p) for p in paths]
