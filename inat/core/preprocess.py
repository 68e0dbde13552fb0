"""Preprocessing, defined once and carried by every model bundle.

Training, the predictor, the app and the benchmarks all build their transforms from a bundle's
`Preprocess`; nobody redefines mean/std or the resize rule on the side. Three transforms come from it:

    eval_transform(pre)    PIL → torch tensor, the defining (training-time) definition
    train_transform(pre)   the same with augmentation
    ArrayTransform(pre)    PIL → numpy array, bit-identical to eval_transform, no torch (the fast path)

and one rule for decoding: `draft_size(pre)`, the side a JPEG may be decoded down to.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE_MODES = ("shorter", "squash")
INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


@dataclass(frozen=True)
class Preprocess:
    """How a photo becomes the model's input tensor (shape 3×input_size×input_size)."""

    input_size: int = 224            # side of the square the model sees
    resize: str = "shorter"          # "shorter": shorter side to input_size/crop_pct, centre crop; "squash": stretch to a square
    crop_pct: float = 0.875          # used by "shorter" only (224/256, the ImageNet convention)
    interpolation: str = "bilinear"  # PIL resampling filter
    mean: tuple = IMAGENET_MEAN      # per-channel, on 0..1 pixels
    std: tuple = IMAGENET_STD

    def __post_init__(self):
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, not {self.resize!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, not {self.interpolation!r}")
        if not (isinstance(self.input_size, int) and 8 <= self.input_size <= 2048):
            raise ValueError(f"input_size must be an integer in 8..2048, not {self.input_size!r}")
        if isinstance(self.crop_pct, bool) or not isinstance(self.crop_pct, (int, float)) or not 0.05 <= self.crop_pct <= 2:
            raise ValueError(f"crop_pct must be a number in 0.05..2 (above 1 the crop is padded), not {self.crop_pct!r}")
        for name in ("mean", "std"):
            v = getattr(self, name)
            if (not isinstance(v, (tuple, list)) or len(v) != 3
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
                raise ValueError(f"{name} must be 3 finite numbers (one per RGB channel), not {v!r}")
            object.__setattr__(self, name, tuple(float(x) for x in v))
        if min(self.std) <= 0:
            raise ValueError(f"std values must be positive, not {list(self.std)!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})

    def replace(self, **changes) -> "Preprocess":
        return Preprocess.from_dict({**self.to_dict(), **changes})

    @property
    def resize_size(self) -> int | tuple[int, int]:
        """The torchvision Resize argument: an int (shorter side) or an (h, w) square."""
        if self.resize == "squash":
            return (self.input_size, self.input_size)
        return int(round(self.input_size / self.crop_pct))


def _interp(name: str):
    from torchvision.transforms import InterpolationMode  # torchvision loads torch: only when a transform is built
    return {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
            "nearest": InterpolationMode.NEAREST}[name]


def eval_transform(pre: Preprocess):
    """PIL RGB image → normalised float tensor (3, S, S), deterministic."""
    from torchvision import transforms as T  # loads torch: only when a transform is built
    steps = [T.Resize(pre.resize_size, interpolation=_interp(pre.interpolation))]
    if pre.resize == "shorter":
        steps.append(T.CenterCrop(pre.input_size))
    steps += [T.ToTensor(), T.Normalize(pre.mean, pre.std)]
    return T.Compose(steps)


def train_transform(pre: Preprocess, *, random_resized_crop: bool = True, hflip: bool = True,
                    rotation: float = 10.0, color_jitter: float = 0.0):
    """PIL RGB image → augmented normalised tensor (3, S, S).

    `random_resized_crop=False` keeps the eval resize (the thesis trained on squashed 224×224
    images with flips and ±10° rotations); True is the modern recipe.
    """
    from torchvision import transforms as T  # loads torch: only when a transform is built
    if random_resized_crop:
        steps = [T.RandomResizedCrop(pre.input_size, scale=(0.25, 1.0), interpolation=_interp(pre.interpolation))]
    else:
        steps = [T.Resize(pre.resize_size, interpolation=_interp(pre.interpolation))]
        if pre.resize == "shorter":
            steps.append(T.CenterCrop(pre.input_size))
    if hflip:
        steps.append(T.RandomHorizontalFlip())
    if rotation:
        steps.append(T.RandomRotation(rotation, interpolation=_interp("bilinear")))
    if color_jitter:
        steps.append(T.ColorJitter(color_jitter, color_jitter, color_jitter))
    steps += [T.ToTensor(), T.Normalize(pre.mean, pre.std)]
    return T.Compose(steps)


def draft_size(pre: Preprocess) -> int:
    """The side a JPEG may be decoded down to: twice the resize target, which keeps the resize's antialiasing."""
    side = pre.resize_size if isinstance(pre.resize_size, int) else max(pre.resize_size)
    return 2 * side


_PIL_FILTERS = {"bilinear": 2, "bicubic": 3, "nearest": 0}  # PIL.Image.Resampling values


class ArrayTransform:
    """`eval_transform(pre)` in PIL + numpy: the same values (bit for bit on RGB input), no torch.

    Resizing is the same PIL call torchvision makes; ToTensor + Normalize become one lookup table per
    channel built with the same float32 operations (x / 255, then (x - mean) / std), so the values are
    identical and cost one gather. `__call__` returns a (3, S, S) float32 array, `batch(images)` a
    (N, 3, S, S) one.
    """

    def __init__(self, pre: Preprocess):
        self.pre = pre
        self.size = pre.input_size
        self.resample = _PIL_FILTERS[pre.interpolation]
        v = np.arange(256, dtype=np.float32) / np.float32(255)
        self.lut = np.stack([(v - np.float32(m)) / np.float32(s) for m, s in zip(pre.mean, pre.std)])
        # A crop larger than the resized image needs torchvision's padding: rare, so delegate to it.
        self.needs_torch = pre.resize == "shorter" and pre.resize_size < pre.input_size
        self._reference = None

    def _resized(self, im):
        """The resized (and centre-cropped) RGB PIL image, as torchvision computes it."""
        w, h = im.size
        s = self.size
        if self.pre.resize == "squash":
            return im if (w, h) == (s, s) else im.resize((s, s), self.resample)
        short_target = self.pre.resize_size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(short_target * long / short)  # torchvision truncates, it does not round
        nw, nh = (short_target, new_long) if w <= h else (new_long, short_target)
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), self.resample)
        top, left = round((nh - s) / 2.0), round((nw - s) / 2.0)  # torchvision's CenterCrop
        return im.crop((left, top, left + s, top + s))

    def into(self, im, out: np.ndarray) -> None:
        """Write the model input for one PIL image into `out`, a (3, S, S) float32 array."""
        if self.needs_torch or im.mode != "RGB":
            if self._reference is None:
                self._reference = eval_transform(self.pre)
            out[...] = self._reference(im.convert("RGB")).numpy()
            return
        px = np.asarray(self._resized(im))  # (S, S, 3) uint8
        for c in range(3):
            np.take(self.lut[c], px[..., c], out=out[c])

    def __call__(self, im) -> np.ndarray:
        out = np.empty((3, self.size, self.size), dtype=np.float32)
        self.into(im, out)
        return out

    def batch(self, images) -> np.ndarray:
        out = np.empty((len(images), 3, self.size, self.size), dtype=np.float32)
        for im, o in zip(images, out):
            self.into(im, o)
        return out
