"""Hostile images, for the tests and the robustness benchmark: every Pillow mode in every format Pillow writes,
1×1 to very large sizes, animations, EXIF orientations 1–8 (with an asymmetric pattern to check upright),
decompression bombs (headers claiming huge sizes in PNG, GIF, JPEG, TIFF, BMP, WEBP, PPM), truncated, bit-flipped
and overwritten files, random bytes and text or HTML named .jpg.

    Case(kind, data, ext, expect)     one input and what must come back ("ok", "error" or "any")
    sweep_cases(large)                the deterministic sweep (`large` adds tens of megapixels)
    bomb_cases(), not_image_cases()   the fixed bombs and non-images
    hostile_cases()                   a hypothesis strategy drawing any kind (needs requirements-dev.txt)

Running a case through the predictor and the app, and judging what came back, is `hostile_rig`'s.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st
from PIL import Image

from ..core.images import MAX_ASPECT, MAX_PIXELS, MAX_SIDE

# Which formats Pillow writes for each mode (checked once by `saveable`); file extension of each.
MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I;16", "I", "F")
FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "GIF", "WEBP", "PPM", "TGA", "ICO", "JPEG2000", "PCX", "SGI", "IM",
           "QOI", "DDS", "SPIDER", "XBM", "MSP", "DIB", "ICNS", "AVIF", "HEIF")
EXT = {"PNG": "png", "JPEG": "jpg", "BMP": "bmp", "TIFF": "tif", "GIF": "gif", "WEBP": "webp", "PPM": "ppm",
       "TGA": "tga", "ICO": "ico", "JPEG2000": "jp2", "PCX": "pcx", "SGI": "sgi", "IM": "im", "QOI": "qoi",
       "DDS": "dds", "SPIDER": "spi", "XBM": "xbm", "MSP": "msp", "DIB": "dib", "ICNS": "icns", "AVIF": "avif",
       "HEIF": "heic"}
# Formats whose encoders are slow or size-limited: kept to small pictures.
SMALL_ONLY = {"ICO": 256, "ICNS": 256, "AVIF": 512, "HEIF": 512, "JPEG2000": 1024, "MSP": 2048, "XBM": 2048,
              "SPIDER": 1024, "IM": 2048, "DDS": 2048, "SGI": 2048}


# -----------------------------------------------------------------------------------------------
# Cases.

@dataclass
class Case:
    """One input: `data` written to a file named `name`; `expect` is "ok", "error" or "any"."""

    kind: str
    data: bytes
    ext: str = "jpg"
    expect: str = "any"
    words: str | None = None            # expected in the error message (e.g. "too large")
    upright: tuple | None = None        # (width, height, quadrant colours TL, TR, BL, BR) after loading
    note: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.kind.replace('/', '_').replace(':', '_').replace(';', '')}.{self.ext}"


def _register_heif() -> bool:
    try:
        import pillow_heif
        pillow_heif.register_heif_opener()
        return True
    except ImportError:
        return False


def picture(mode: str, w: int, h: int, seed: int = 0, special: bool = False) -> Image.Image:
    """A w×h image in `mode`: gradients plus noise (so no two formats compress it alike).

    `special` puts NaN/±inf into "F" images and negative values into "I" ones.
    """
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, w, dtype=np.float32).astype(np.uint8)[None, :]
    rgb[..., 1] = np.linspace(255, 0, h, dtype=np.float32).astype(np.uint8)[:, None]
    rgb[..., 2] = (seed * 37) % 256
    if w * h <= 4_000_000:
        rgb ^= rng.integers(0, 32, (h, w, 3), dtype=np.uint8)
    gray = rgb[..., 0]
    if mode == "I;16":
        return Image.fromarray(gray.astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(gray.astype(np.int32) * 1000 - (500_000 if special else 0))
    if mode == "F":
        a = gray.astype(np.float32) / 255
        if special and a.size >= 3:
            a.flat[0], a.flat[1], a.flat[2] = np.nan, np.inf, -np.inf
        return Image.fromarray(a)
    im = Image.fromarray(rgb, "RGB")
    if mode in ("RGBA", "LA", "PA"):
        im.putalpha(Image.fromarray(rgb[..., 1]))
        return im.convert(mode) if mode != "RGBA" else im
    if mode == "P":
        return im.quantize(colors=int(rng.integers(2, 256)))
    return im.convert(mode)


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    """`im` saved as `fmt`; a P image saved as PNG/GIF gets palette index 0 transparent."""
    if fmt == "HEIF":
        _register_heif()
    buf = io.BytesIO()
    if im.mode == "P" and fmt in ("PNG", "GIF") and "transparency" not in params:
        params["transparency"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im.save(buf, fmt, **params)
    return buf.getvalue()


_SAVEABLE: dict[tuple[str, str], bool] = {}


def saveable(mode: str, fmt: str) -> bool:
    """Whether Pillow writes `mode` as `fmt` and reads it back (checked once on an 8×6 picture)."""
    key = (mode, fmt)
    if key not in _SAVEABLE:
        try:
            data = encode(picture(mode, 8, 6), fmt)
            with Image.open(io.BytesIO(data)) as back:
                back.load()
            _SAVEABLE[key] = True
        except Exception:
            _SAVEABLE[key] = False
    return _SAVEABLE[key]


def mode_format_pairs() -> list[tuple[str, str]]:
    return [(m, f) for m in MODES for f in FORMATS if saveable(m, f)]


def size_expect(w: int, h: int) -> tuple[str, str | None]:
    """What open_image must do with a valid w×h picture: ("ok", None) or ("error", words in the message)."""
    if w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
        return "error", "too large"
    if max(w, h) > MAX_ASPECT * min(w, h):
        return "error", "too narrow"
    return "ok", None


def valid_case(mode: str, fmt: str, w: int, h: int, seed: int = 0, special: bool = False) -> Case:
    data = encode(picture(mode, w, h, seed, special), fmt)
    with Image.open(io.BytesIO(data)) as stored:  # ICNS and ICO store their own icon sizes
        expect, words = size_expect(*stored.size)
    return Case(f"valid:{mode}/{fmt}/{w}x{h}", data, EXT[fmt], expect, words)


def animated_case(fmt: str, frames: int, w: int, h: int, seed: int = 0) -> Case:
    ims = [picture("RGB", w, h, seed + i) for i in range(frames)]
    if fmt == "GIF":
        ims = [im.quantize(64) for im in ims]
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ims[0].save(buf, fmt, save_all=True, append_images=ims[1:], duration=40, loop=0)
    return Case(f"animated:{fmt}/{frames}f/{w}x{h}", buf.getvalue(), EXT[fmt], *size_expect(w, h))


# -- EXIF orientation ---------------------------------------------------------------------------
QUADRANTS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (240, 240, 240))  # TL, TR, BL, BR
UPRIGHT = (64, 40)  # width, height as seen by a person: landscape, so rotations change the size


def upright_array() -> np.ndarray:
    w, h = UPRIGHT
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2], a[: h // 2, w // 2:] = QUADRANTS[0], QUADRANTS[1]
    a[h // 2:, : w // 2], a[h // 2:, w // 2:] = QUADRANTS[2], QUADRANTS[3]
    return a


def stored_for_orientation(u: np.ndarray, o: int) -> np.ndarray:
    """The pixels a camera stores for upright picture `u` with EXIF orientation `o`.

    Written from the EXIF definition (where row 0 and column 0 of the stored image lie in the
    visual image), independently of Pillow's exif_transpose table.
    """
    t = (1, 0, 2)
    return {1: u, 2: u[:, ::-1], 3: u[::-1, ::-1], 4: u[::-1, :],
            5: u.transpose(t),                       # row 0 = left side, column 0 = top
            6: u[:, ::-1].transpose(t),              # row 0 = right side, column 0 = top
            7: u[::-1, ::-1].transpose(t),           # row 0 = right side, column 0 = bottom
            8: u[::-1, :].transpose(t)}[o]           # row 0 = left side, column 0 = bottom


def orientation_case(o: int, fmt: str = "JPEG") -> Case:
    stored = Image.fromarray(np.ascontiguousarray(stored_for_orientation(upright_array(), o)))
    if fmt == "TIFF":
        data = encode(stored, fmt, tiffinfo={274: o})
    else:
        exif = Image.Exif()
        exif[0x0112] = o
        data = encode(stored, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    return Case(f"exif:orientation{o}/{fmt}", data, EXT[fmt], "ok", upright=(*UPRIGHT, QUADRANTS))


def exif_blob(typ: int, count: int, value: bytes) -> bytes:
    """An EXIF block holding only an orientation tag, written by hand (Pillow refuses wrong types)."""
    value = value[:4].ljust(4, b"\0") if len(value) <= 4 else struct.pack("<I", 26)
    tail = b"" if len(value) <= 4 else value
    return b"Exif\0\0II*\0" + struct.pack("<IHHHI", 8, 1, 0x0112, typ, count) + value + struct.pack("<I", 0) + tail


ODD_ORIENTATIONS = {"0": (3, 1, struct.pack("<H", 0)), "9": (3, 1, struct.pack("<H", 9)),
                    "65535": (3, 1, struct.pack("<H", 65535)), "ascii-6": (2, 2, b"6\0"),
                    "long-6": (4, 1, struct.pack("<I", 6)), "two-shorts": (3, 2, struct.pack("<HH", 6, 6)),
                    "rational": (5, 1, struct.pack("<II", 6, 1)), "count-huge": (3, 0x7FFFFFFF, b"\0\6"),
                    "type-99": (99, 1, b"\6\0")}


def odd_exif_case(which: str, seed: int = 0) -> Case:
    """A photo whose orientation tag is out of range or of the wrong type: used as stored, or refused."""
    data = encode(picture("RGB", 40, 30, seed), "JPEG", exif=exif_blob(*ODD_ORIENTATIONS[which]))
    return Case(f"exif:orientation={which}", data, "jpg", "any")


def check_upright(im: Image.Image, upright) -> str | None:
    """None when `im` shows the asymmetric pattern the right way up, else what is wrong."""
    w, h, colours = upright
    if im.size != (w, h):
        return f"size {im.size}, expected {(w, h)}"
    a = np.asarray(im.convert("RGB"), dtype=np.int16)
    centres = [(h // 4, w // 4), (h // 4, 3 * w // 4), (3 * h // 4, w // 4), (3 * h // 4, 3 * w // 4)]
    for (y, x), c in zip(centres, colours):
        if np.abs(a[y, x] - np.array(c)).max() > 60:
            return f"pixel {(x, y)} is {tuple(a[y, x])}, expected about {c}"
    return None


# -- decompression bombs: headers claiming huge sizes --------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(w: int, h: int, color_type: int = 2, data: bytes = b"\0" * 64) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(data))
            + _png_chunk(b"IEND", b""))


def png_zero_bomb(w: int, h: int) -> bytes:
    """A real bomb: a valid grey PNG of w×h black pixels, a few hundred KB compressed."""
    comp = zlib.compressobj(9)
    row = b"\0" * (w + 1)
    body = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def gif_claiming(w: int, h: int) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00"
    return screen + image + b"\x3b"


def jpeg_claiming(w: int, h: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16), "red"), "JPEG"))
    i = data.index(b"\xff\xc0")  # SOF0: length(2) precision(1) height(2) width(2)
    data[i + 5: i + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def tiff_claiming(w: int, h: int) -> bytes:
    tags = [(256, 4, w), (257, 4, h), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8 + 2 + 12 * 9 + 4),
            (277, 3, 1), (278, 4, h), (279, 4, 16)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", t, typ, 1) + (struct.pack("<HH", v, 0) if typ == 3 else struct.pack("<I", v))
        for t, typ, v in tags) + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd + b"\0" * 16


def bmp_claiming(w: int, h: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 14 + 40) + info + b"\0" * 64


def webp_claiming(w: int, h: int) -> bytes:
    """A 1×1 lossless WEBP whose VP8L header is patched to claim w×h (each at most 16,384)."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "WEBP", lossless=True))
    i = data.index(b"VP8L") + 9  # fourcc, chunk size, signature byte; then 14 bits w-1, 14 bits h-1
    bits = int.from_bytes(data[i: i + 4], "little") & ~((1 << 28) - 1)
    data[i: i + 4] = (bits | (w - 1) | ((h - 1) << 14)).to_bytes(4, "little")
    return bytes(data)


def ppm_claiming(w: int, h: int) -> bytes:
    return f"P6\n{w} {h}\n255\n".encode() + b"\0" * 64


BOMBS = {"png": png_claiming, "gif": gif_claiming, "jpg": jpeg_claiming, "tif": tiff_claiming,
         "bmp": bmp_claiming, "webp": webp_claiming, "ppm": ppm_claiming}
BOMB_SIZES = {"png": [(100_000, 100_000), (65_535, 65_535), (20_000, 20_000), (200_000, 1)],
              "gif": [(65_535, 65_535), (20_000, 20_000)], "jpg": [(65_500, 65_500), (20_000, 20_000)],
              "tif": [(100_000, 100_000), (20_000, 20_000)], "bmp": [(100_000, 100_000), (20_000, -20_000)],
              "webp": [(16_384, 16_384), (16_384, 9_200)], "ppm": [(100_000, 100_000)]}


def bomb_case(fmt: str, w: int, h: int) -> Case:
    # A negative BMP height means "stored top-down"; only |h| counts.
    return Case(f"bomb:{fmt}/{w}x{h}", BOMBS[fmt](w, h), fmt, "error", "too large", note={"bomb": True})


def bomb_cases() -> list[Case]:
    return [bomb_case(f, w, h) for f, sizes in BOMB_SIZES.items() for w, h in sizes]


# -- not images, and damaged ones ---------------------------------------------------------------
NOT_IMAGES = {
    "empty": (b"", "jpg"), "text": (b"this is not a photo\n", "jpg"),
    "html": (b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>", "png"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="9e9" height="9e9"><rect/></svg>', "jpg"),
    "json": (b'{"image": "lion.jpg"}', "jpeg"), "pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", "png"),
    "zip": (b"PK\x03\x04" + b"\0" * 40, "jpg"), "pickle": (b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N.", "png"),
    "nul": (b"\0" * 4096, "jpg"), "utf16": ("ceci n'est pas une photo".encode("utf-16"), "gif"),
    "jpeg-magic-only": (b"\xff\xd8\xff", "jpg"), "png-magic-only": (b"\x89PNG\r\n\x1a\n", "png"),
    "gif-magic-only": (b"GIF89a", "gif"), "tiff-magic-only": (b"II*\0", "tif"), "bmp-magic-only": (b"BM", "bmp"),
    "riff-webp-only": (b"RIFF\0\0\0\0WEBP", "webp"),
}


def not_image_cases() -> list[Case]:
    return [Case(f"not-image:{k}", d, ext, "error") for k, (d, ext) in NOT_IMAGES.items()]


CORRUPTIONS = ("truncate", "bitflip", "overwrite", "zero", "delete", "insert", "header-only")


def corrupt(data: bytes, how: str, seed: int) -> bytes:
    """`data` damaged in one way, at places chosen by `seed`."""
    rng = np.random.default_rng(seed)
    n = len(data)
    b = bytearray(data)
    if how == "truncate":
        return bytes(b[: int(rng.integers(0, n))])
    if how == "bitflip":
        for pos in rng.integers(0, n, int(rng.integers(1, 9))):
            b[pos] ^= 1 << int(rng.integers(0, 8))
        return bytes(b)
    i = int(rng.integers(0, n))
    k = int(rng.integers(1, max(2, min(n - i, 256))))
    if how == "overwrite":
        b[i: i + k] = rng.integers(0, 256, len(b[i: i + k]), dtype=np.uint8).tobytes()
    elif how == "zero":
        b[i: i + k] = bytes(len(b[i: i + k]))
    elif how == "delete":
        del b[i: i + k]
    elif how == "insert":
        b[i:i] = rng.integers(0, 256, k, dtype=np.uint8).tobytes()
    elif how == "header-only":
        return bytes(b[: min(n, 64)])
    return bytes(b)


MAGIC = {"jpg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "gif": b"GIF89a", "tif": b"II*\0",
         "bmp": b"BM", "webp": b"RIFF\0\0\0\0WEBP", "ico": b"\0\0\1\0", "psd": b"8BPS", "jp2": b"\0\0\0\x0cjP  "}


def random_bytes_case(n: int, seed: int, magic: str | None) -> Case:
    data = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()
    if magic:
        data = MAGIC[magic] + data
    return Case(f"random:{magic or 'none'}/{n}B", data, magic or "jpg", "any")


# -- the deterministic sweep ----------------------------------------------------------------------
def sweep_cases(large: bool = False) -> list[Case]:
    """Every mode × format, 1×1 and thin pictures, animations, orientations, bombs, non-images.

    `large` adds very large pictures (tens of megapixels; the benchmark runs them).
    """
    cases = [valid_case(m, f, 37, 23, seed=i) for i, (m, f) in enumerate(mode_format_pairs())]
    cases += [valid_case(m, "TIFF", 20, 10, special=True) for m in ("I", "F")]
    for m, f in (("RGB", "PNG"), ("RGB", "JPEG"), ("L", "GIF"), ("P", "PNG"), ("RGBA", "WEBP"), ("I;16", "TIFF")):
        cases.append(valid_case(m, f, 1, 1))
    for w, h in ((1, 50), (50, 1), (1, 2000), (3000, 2), (1, 60_000), (60_000, 1)):
        cases.append(valid_case("L", "PNG", w, h))
    cases.append(valid_case("RGB", "JPEG", 4032, 3024))  # a phone photo
    if large:
        cases += [valid_case("RGB", "JPEG", 12_000, 9_000), valid_case("L", "PNG", 12_000, 12_000),
                  valid_case("RGB", "PNG", 10_000, 7_500), valid_case("I;16", "PNG", 8_000, 6_000)]
        cases.append(Case("bomb:png-real/20000x20000", png_zero_bomb(20_000, 20_000), "png", "error",
                          "too large", note={"bomb": True}))
    cases += [animated_case(f, n, 30, 20) for f in ("GIF", "PNG", "WEBP", "TIFF") for n in (2, 7)]
    cases += [orientation_case(o, f) for o in range(1, 9) for f in ("JPEG", "PNG", "WEBP", "TIFF")]
    cases += [odd_exif_case(v) for v in ODD_ORIENTATIONS]
    cases += bomb_cases() + not_image_cases()
    base = valid_case("RGB", "JPEG", 120, 90).data
    cases += [Case(f"corrupt:{how}/jpg/{s}", corrupt(base, how, s), "jpg") for how in CORRUPTIONS for s in range(3)]
    return cases


# -- hypothesis ------------------------------------------------------------------------------------
SIZES = st.one_of(st.tuples(st.integers(1, 64), st.integers(1, 64)),
                  st.tuples(st.integers(1, 800), st.integers(1, 800)),
                  st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 5000)),
                  st.tuples(st.integers(1, 5000), st.sampled_from([1, 2, 3])))


@st.composite
def valid_cases(draw) -> Case:
    mode, fmt = draw(st.sampled_from(mode_format_pairs()))
    w, h = draw(SIZES)
    limit = SMALL_ONLY.get(fmt)
    if limit and max(w, h) > limit:
        w, h = min(w, limit), min(h, limit)
    try:
        return valid_case(mode, fmt, w, h, seed=draw(st.integers(0, 2**16)), special=draw(st.booleans()))
    except Exception:  # an encoder that refuses this size (e.g. ICO above 256 px)
        reject()


@st.composite
def hostile_cases(draw) -> Case:
    """Any of the kinds above, parameters drawn by hypothesis (bytes made from drawn seeds)."""
    kind = draw(st.sampled_from(["valid", "corrupt", "corrupt", "corrupt", "random", "animated", "orientation",
                                 "odd-exif", "bomb", "not-image"]))
    if kind == "valid":
        return draw(valid_cases())
    if kind == "corrupt":
        base = draw(valid_cases())
        how, seed = draw(st.sampled_from(CORRUPTIONS)), draw(st.integers(0, 2**32 - 1))
        if not base.data:
            reject()
        return Case(f"corrupt:{how}/{base.kind}/{seed}", corrupt(base.data, how, seed), base.ext)
    if kind == "random":
        return random_bytes_case(draw(st.integers(0, 5000)), draw(st.integers(0, 2**32 - 1)),
                                 draw(st.none() | st.sampled_from(sorted(MAGIC))))
    if kind == "animated":
        return animated_case(draw(st.sampled_from(["GIF", "PNG", "WEBP", "TIFF"])), draw(st.integers(2, 12)),
                             draw(st.integers(1, 120)), draw(st.integers(1, 120)), draw(st.integers(0, 999)))
    if kind == "orientation":
        return orientation_case(draw(st.integers(1, 8)), draw(st.sampled_from(["JPEG", "PNG", "WEBP", "TIFF"])))
    if kind == "odd-exif":
        return odd_exif_case(draw(st.sampled_from(sorted(ODD_ORIENTATIONS))), draw(st.integers(0, 99)))
    if kind == "bomb":
        fmt = draw(st.sampled_from(sorted(BOMBS)))
        top = {"gif": 65_535, "jpg": 65_500, "webp": 16_384}.get(fmt, 1_000_000)
        w = draw(st.integers(1, top))
        h = draw(st.integers(max(1, MAX_PIXELS // w + 1), top)) if MAX_PIXELS // w + 1 <= top else top
        if w * h <= MAX_PIXELS and max(w, h) <= MAX_SIDE:
            reject()
        return bomb_case(fmt, w, h)
    return draw(st.sampled_from(not_image_cases()))
