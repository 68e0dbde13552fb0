"""inat.core.images: every photo becomes an upright RGB image, or one line saying why not (the hostile sweep: test_hostile_images.py)."""
import io

import numpy as np
import pytest
from PIL import Image

from inat.core.images import MAX_PIXELS, ImageError, open_image


def _png(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _enc(im, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_alpha_is_composited_on_white():
    im = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert open_image(_png(im)).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "RGB"])
def test_every_mode_becomes_rgb(mode):
    im = Image.new("RGB", (8, 6), (10, 200, 30)).convert(mode) if mode not in ("I;16", "I", "F") else \
        Image.fromarray((np.arange(48).reshape(6, 8) * 1000).astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]))
    fmt = {"CMYK": "JPEG", "I;16": "PNG", "F": "TIFF", "LA": "PNG"}.get(mode, "TIFF" if mode == "I" else "PNG")
    out = open_image(_enc(im, fmt))
    assert out.mode == "RGB" and out.size == (8, 6)


def test_exif_orientation_is_applied():
    im = Image.new("RGB", (40, 20), "green")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = open_image(_enc(im, "JPEG", exif=exif))
    assert out.size == (20, 40)


def test_gif_first_frame_and_webp():
    frames = [Image.new("P", (5, 5), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert open_image(buf.getvalue()).size == (5, 5)
    assert open_image(_enc(Image.new("RGB", (7, 7)), "WEBP")).size == (7, 7)


def test_bad_inputs_have_one_line_errors(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("<html>hello</html>")
    good = _enc(Image.new("RGB", (300, 300), "blue"), "JPEG")
    (tmp_path / "trunc.jpg").write_bytes(good[: len(good) // 2])
    cases = {tmp_path / "missing.jpg": "no such file", tmp_path: "directory", tmp_path / "empty.jpg": "empty",
             tmp_path / "text.jpg": "not an image", tmp_path / "trunc.jpg": "truncated or corrupt"}
    for path, msg in cases.items():
        with pytest.raises(ImageError, match=msg) as e:
            open_image(path)
        assert "\n" not in str(e.value)


def test_decompression_bomb_refused_before_decoding():
    # A PNG header claiming 100k × 100k pixels: refused from the header alone.
    side = 100_000
    im = Image.new("1", (1, 1))
    data = bytearray(_png(im))
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    assert side * side > MAX_PIXELS
    with pytest.raises(ImageError, match="too large"):
        open_image(bytes(data))
