"""Opening photos safely: every format Pillow reads, EXIF orientation, and one-line errors.

Everything that reaches a model goes through `open_image`, so the predictor, the app and training
agree on how a PNG with alpha, a CMYK JPEG or a 16-bit TIFF becomes RGB, and hostile files (bombs,
truncated or non-image bytes) are refused with an `ImageError` before they cost memory.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import first_line

# Refuse anything above this many pixels before decoding (a 12,000 × 12,000 panorama passes;
# a decompression bomb does not). Pillow's own guard is disabled in favour of this clear error.
MAX_PIXELS = 150_000_000
MAX_SIDE = 60_000
# Sides may differ by at most this factor: resizing the shorter side to the model's 256 px would
# make a 1 × 60,000 strip 256 × 15 million pixels (12 GB) before the centre crop.
MAX_ASPECT = 50
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

FORMATS = "JPEG, PNG, WebP or HEIC"   # what people are told to send
_heif_registered = None


class ImageError(ValueError):
    """A photo we cannot use; str(e) is one sentence meant for the person who sent it."""


def _register_heif() -> None:
    # HEIC (iPhone photos) when the optional pillow-heif is installed; tried once.
    global _heif_registered
    if _heif_registered is None:
        try:
            import pillow_heif  # optional: HEIC photos when it is installed
            pillow_heif.register_heif_opener()
            _heif_registered = True
        except Exception:
            _heif_registered = False


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode → RGB; transparency is composited on white, high bit depths rescaled."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = np.nanmin(a), np.nanmax(a)
        a = np.zeros_like(a) if not np.isfinite(hi - lo) or hi <= lo else (a - lo) / (hi - lo) * 255.0
        im = Image.fromarray(np.nan_to_num(a).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return im.convert("RGB") if im.mode != "RGB" else im


def open_image(source, draft_size: int | None = None) -> Image.Image:
    """A path, bytes, file object or PIL image → an upright RGB PIL image.

    `draft_size` lets JPEG decode at a reduced scale (no smaller than that side), which is much
    faster for large photos and loses nothing once the model resizes to its input size anyway.
    Raises ImageError with a one-line reason for anything unusable.
    """
    name = "image"
    if isinstance(source, Image.Image):
        im = source
    else:
        if isinstance(source, (str, Path)):
            path = Path(source)
            name = path.name
            if not path.exists():
                raise ImageError(f"{source}: no such file")
            if path.is_dir():
                raise ImageError(f"{source}: is a directory with no photos (JPEG, PNG, WebP or HEIC) in it")
            if path.stat().st_size == 0:
                raise ImageError(f"{source}: empty file")
            fp = path
        elif isinstance(source, (bytes, bytearray)):
            if not source:
                raise ImageError("empty file")
            fp = io.BytesIO(source)
        else:
            fp = source
        _register_heif()
        try:
            im = Image.open(fp)
        except UnidentifiedImageError:
            raise ImageError(f"{name}: not an image file Pillow can read") from None
        except Exception as e:  # plugins also raise NotImplementedError (DDS), struct.error... on bad headers
            raise ImageError(f"{name}: unreadable image ({first_line(e, 120)})") from None
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageError(f"{name}: image has no pixels ({w}×{h})")
    if w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
        raise ImageError(f"{name}: image too large ({w}×{h} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels)")
    if max(w, h) > MAX_ASPECT * min(w, h):
        raise ImageError(f"{name}: image too narrow ({w}×{h} pixels; one side may be at most {MAX_ASPECT} times the other)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # animated GIF/WEBP/TIFF: the first frame
            if draft_size and im.format == "JPEG" and im.mode in ("RGB", "L", "CMYK"):
                # draft() keeps at least the requested size; the orientation is applied afterwards.
                im.draft(im.mode if im.mode != "CMYK" else "RGB", (draft_size, draft_size))
            im.load()
            im = ImageOps.exif_transpose(im)
            return _to_rgb(im)
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"{name}: image too large to decode") from None
    except Exception as e:  # Pillow raises many kinds for corrupt data; the user needs one line
        raise ImageError(f"{name}: truncated or corrupt image ({first_line(e, 120)})") from None


# What the app and the command line say for each way `open_image` refuses a file (matched on its own message),
# in one sentence that says what to do; the technical reason stays in the log and in `predict --json`.
PHOTO_PROBLEMS = (
    ("no such file", "{name} does not exist: check the name and the folder."),
    ("is a directory", "{name} is a folder with no photos in it (JPEG, PNG, WebP or HEIC)."),
    ("empty file", "{name} is empty: choose a photo file ({formats})."),
    ("not an image file", "{name} is not a photo this app can open: choose a {formats} file."),
    ("truncated or corrupt", "{name} is damaged or incomplete: upload the original photo again."),
    ("too large", f"{{name}} is too large (more than {MAX_PIXELS // 1_000_000} megapixels): use a smaller copy "
                  f"of the photo."),
    ("too narrow", "{name} is too long and narrow: crop it closer to the organism and try again."),
    ("no pixels", "{name} has no pixels: choose another photo."),
    ("unreadable image", "{name} is damaged or incomplete: upload the original photo again."),
)


def photo_problem(name: str, reason: str) -> str:
    """One plain sentence for a photo that cannot be used: no path, no library name, what to do next.

    `name`: the file's own name as the uploader sent it (already escaped for HTML), or the path given on the
    command line; `reason`: the technical message (`str(ImageError)`), which only chooses the sentence."""
    for words, sentence in PHOTO_PROBLEMS:
        if words in reason:
            return sentence.format(name=name, formats=FORMATS)
    return f"{name} could not be opened as a photo: try another photo ({FORMATS})."
