"""Preprocessing, defined once and carried by every model bundle.

Training, the predictor, the app and the benchmarks all build their transforms from a bundle's
`Preprocess`; nobody redefines mean/std or the resize rule on the side.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

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
    from torchvision.transforms import InterpolationMode
    return {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
            "nearest": InterpolationMode.NEAREST}[name]


def eval_transform(pre: Preprocess):
    """PIL RGB image → normalised float tensor (3, S, S), deterministic."""
    from torchvision import transforms as T
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
    from torchvision import transforms as T
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
