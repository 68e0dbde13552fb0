"""Draw the app's plant example, assets/examples/daisy.jpg: oxeye daisies on foliage, made from nothing.

    python scripts/make_example_photo.py [--out assets/examples/daisy.jpg] [--seed 7]

The page needs a plant among its examples, and a photo we may ship (not one from ../shared, whose photos
belong to their authors). This picture is drawn here with Pillow and numpy, so it is ours to release (see
assets/examples/README.md). The drawing is seeded: the same command draws the same picture. The starter
names it "Oxeye daisy" (checked by tests/test_app_page.py when the starter is installed).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 640            # px, square: larger than the 224-288 px the models see, small on disk
SUPERSAMPLE = 2       # drawn at twice the size, then reduced: smooth petal edges


def foliage(rng, size: int) -> Image.Image:
    """A blurred bed of leaves in greens: the out-of-focus background of a flower photo."""
    im = Image.new("RGB", (size, size), (52, 84, 38))
    d = ImageDraw.Draw(im)
    for _ in range(900):
        x, y = rng.uniform(0, size, 2)
        w, h = rng.uniform(size * 0.02, size * 0.09), rng.uniform(size * 0.01, size * 0.04)
        g = int(rng.uniform(70, 150))
        colour = (int(g * rng.uniform(0.35, 0.6)), g, int(g * rng.uniform(0.2, 0.45)))
        leaf = Image.new("L", (int(2 * w) + 2, int(2 * w) + 2), 0)
        ImageDraw.Draw(leaf).ellipse([w - w, w - h, w + w, w + h], fill=255)
        leaf = leaf.rotate(rng.uniform(0, 180), resample=Image.BILINEAR)
        d.bitmap((int(x - w), int(y - w)), leaf, fill=colour)
    return im.filter(ImageFilter.GaussianBlur(size * 0.012))


def daisy(im: Image.Image, rng, cx: float, cy: float, radius: float) -> None:
    """One oxeye daisy: ~30 white ray petals with grey-blue shading, then a yellow disc of florets."""
    size = im.size[0]
    petals = Image.new("RGBA", im.size, (0, 0, 0, 0))
    n = int(rng.integers(28, 34))
    for i in range(n):
        angle = 2 * math.pi * i / n + rng.normal(0, 0.05)
        length = radius * rng.uniform(0.85, 1.0)
        width = radius * rng.uniform(0.11, 0.14)
        petal = Image.new("RGBA", (int(2 * length) + 4, int(2 * length) + 4), (0, 0, 0, 0))
        pd = ImageDraw.Draw(petal)
        c = length + 2
        shade = int(rng.uniform(228, 252))
        pd.ellipse([c + radius * 0.18, c - width, c + length, c + width],
                   fill=(shade, shade, min(255, shade + 4), 255), outline=(200, 204, 212, 255))
        pd.line([c + radius * 0.22, c, c + length * 0.95, c], fill=(214, 216, 222, 255), width=max(1, int(width * 0.12)))
        petal = petal.rotate(-math.degrees(angle), resample=Image.BICUBIC)
        petals.alpha_composite(petal, (int(cx - c), int(cy - c)))
    shadow = petals.split()[3].filter(ImageFilter.GaussianBlur(size * 0.006))
    im.paste((20, 40, 15), (int(size * 0.004), int(size * 0.006)), shadow.point(lambda a: a // 3))
    im.paste(petals, (0, 0), petals)
    # The disc: florets in a sunflower spiral, darker and smaller towards the centre.
    d = ImageDraw.Draw(im)
    disc = radius * 0.27
    d.ellipse([cx - disc, cy - disc, cx + disc, cy + disc], fill=(226, 170, 20))
    golden = math.pi * (3 - math.sqrt(5))
    florets = int(disc * disc / 9)
    for k in range(florets):
        r = disc * 0.96 * math.sqrt((k + 0.5) / florets)
        a = k * golden
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        s = max(1.0, disc * 0.055 * (0.6 + 0.4 * r / disc))
        t = r / disc
        colour = (int(200 + 50 * t), int(130 + 70 * t), int(10 + 20 * t))
        d.ellipse([x - s, y - s, x + s, y + s], fill=colour, outline=(170, 110, 10))


def draw(seed: int = 7) -> Image.Image:
    """The example picture (SIZE × SIZE RGB)."""
    rng = np.random.default_rng(seed)
    big = SIZE * SUPERSAMPLE
    im = foliage(rng, big)
    # Two smaller daisies behind, one filling the frame in front: "one organism, fills the frame".
    daisy(im, rng, big * 0.16, big * 0.2, big * 0.13)
    daisy(im, rng, big * 0.86, big * 0.82, big * 0.12)
    daisy(im, rng, big * 0.52, big * 0.5, big * 0.36)
    return im.resize((SIZE, SIZE), Image.LANCZOS).filter(ImageFilter.UnsharpMask(1.5, 60, 2))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "assets" / "examples" / "daisy.jpg"))
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    draw(args.seed).save(out, quality=88, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
