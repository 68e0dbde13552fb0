"""inat.core.preprocess: the Preprocess record, its torchvision transforms, the numpy twin and the draft-size rule."""
import math

import numpy as np
import pytest
from PIL import Image

from inat.core.preprocess import ArrayTransform, Preprocess, draft_size, eval_transform, train_transform
from inat.testing.photos import picture


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    return picture(seed, (w, h), grain=8)


def test_round_trip_and_replace():
    pre = Preprocess(input_size=64, interpolation="bicubic", mean=(0.5, 0.5, 0.5), std=[0.5, 0.5, 0.5])
    d = pre.to_dict()
    assert d["mean"] == [0.5, 0.5, 0.5] and d["std"] == [0.5, 0.5, 0.5]  # JSON-ready lists
    assert Preprocess.from_dict({**d, "unknown_key": 1}) == pre  # newer fields are ignored, not fatal
    assert pre.replace(input_size=96) == Preprocess.from_dict({**d, "input_size": 96})
    assert pre.replace(input_size=96).interpolation == "bicubic"


@pytest.mark.parametrize("pre, resize, draft", [
    (Preprocess(), 256, 512),                                   # 224 / 0.875
    (Preprocess(input_size=224, resize="squash"), (224, 224), 448),
    (Preprocess(input_size=32, crop_pct=1.0), 32, 64),
    (Preprocess(input_size=288), 329, 658),
])
def test_resize_size_and_draft_size(pre, resize, draft):
    assert pre.resize_size == resize
    # JPEGs decode no smaller than twice the resize target (keeps the resize's antialiasing).
    assert draft_size(pre) == draft


@pytest.mark.parametrize("field, value", [
    ("resize", "crop"), ("interpolation", "lanczos"), ("input_size", 4), ("input_size", 4096),
    ("input_size", 224.0), ("crop_pct", 0), ("crop_pct", -1), ("crop_pct", math.nan), ("crop_pct", 1e-3),
    ("crop_pct", math.inf), ("crop_pct", True), ("std", (0, 0, 0)), ("std", (1, 1, 1, 1)), ("mean", (0.5,)),
    ("mean", (math.nan, 0, 0)), ("mean", "abc"), ("std", (-1, 1, 1))])
def test_values_that_would_break_a_photo_are_refused(field, value):
    # crop_pct 0 divides by zero, 1e-3 resizes photos to 224,000 px a side before cropping, std 0 gives NaN.
    with pytest.raises(ValueError, match=field):
        Preprocess(**{field: value})


def test_eval_transform_shape_and_normalisation():
    pre = Preprocess(input_size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    x = eval_transform(pre)(Image.new("RGB", (80, 50), (255, 0, 128)))
    assert tuple(x.shape) == (3, 32, 32)
    assert x[0].min() == pytest.approx(1.0) and x[1].max() == pytest.approx(-1.0)  # (1 - 0.5) / 0.5, (0 - 0.5) / 0.5


def test_train_transform_shapes():
    pre = Preprocess(input_size=32)
    im = photo(90, 60)
    for rrc in (True, False):
        x = train_transform(pre, random_resized_crop=rrc, rotation=10, color_jitter=0.2)(im)
        assert tuple(x.shape) == (3, 32, 32)


def _photos():
    rng = np.random.default_rng(0)
    sizes = [(1, 1), (2, 700), (700, 2), (224, 224), (256, 256), (257, 300), (500, 375), (375, 500), (33, 31)]
    out = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    return out + [photo(640, 480)]


@pytest.mark.parametrize("pre", [
    Preprocess(),                                                          # shorter side, bilinear, crop 0.875
    Preprocess(input_size=224, resize="squash"),                           # the thesis
    Preprocess(input_size=224, interpolation="bicubic", mean=(0.5,) * 3, std=(0.5,) * 3),  # Lite0
    Preprocess(input_size=32, interpolation="nearest", crop_pct=1.0),
    Preprocess(input_size=64, crop_pct=1.3),                               # crop larger than the resize: padded
], ids=["default", "squash", "lite0", "nearest32", "padded"])
def test_array_transform_equals_eval_transform(pre):
    fast, ref = ArrayTransform(pre), eval_transform(pre)
    photos = _photos()
    batch = fast.batch(photos)
    assert batch.shape == (len(photos), 3, pre.input_size, pre.input_size) and batch.dtype == np.float32
    for im, got in zip(photos, batch):
        np.testing.assert_allclose(got, ref(im).numpy(), rtol=0, atol=1e-6)
    # Only a crop larger than the resized photo (torchvision pads it) is handed to torchvision.
    assert fast.needs_torch == (pre.crop_pct > 1)


def test_array_transform_converts_other_modes_like_the_reference():
    pre = Preprocess(input_size=32)
    for im in (photo(50, 40).convert("L"), photo(50, 40).convert("RGBA")):
        np.testing.assert_allclose(ArrayTransform(pre)(im), eval_transform(pre)(im.convert("RGB")).numpy(),
                                   rtol=0, atol=1e-6)
