"""What a training run is: `TrainConfig`, every setting that decides a run's numbers, saved in its bundle as
run.config; `python -m inat train`'s flags are generated from its fields (`inat.cli.train`). How a run goes is
`inat.training.train`'s.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields

from ..models.architectures import get_spec, list_models

INITS = ("scratch", "imagenet", "transfer")
OPTIMIZERS = ("adamw", "sgd")


def _opt(default, help: str, **extra):
    """A TrainConfig field: its default, and the help text (and choices) its command-line flag shows."""
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class TrainConfig:
    """Everything that determines a training run; saved in the bundle as run.config.

    `python -m inat train`'s flags are generated from these fields (`add_cli`): one flag per field,
    with the help text in the field's metadata.
    """

    data: str = field(metadata={"help": "dataset folder (train_mini.json + val.json, or 2021_train_mini/ + 2021_valid/)"})
    arch: str = field(metadata={"help": "a registered architecture", "choices": list_models})
    out: str = field(metadata={"help": "bundle folder to write (weights/NAME or runs/NAME)"})
    init: str = _opt("imagenet", "scratch | imagenet (fine-tune all layers) | transfer (frozen backbone, train the head)",
                     choices=lambda: INITS)
    init_from: str | None = _opt(None, "start from this bundle's weights instead of ImageNet's (same --arch; e.g. "
                                        "weights/inat2017-birds); imagenet or transfer")
    epochs: int = _opt(10, "epochs to train")
    batch_size: int = _opt(32, "photos per step, per process")
    img_size: int = _opt(224, "input side in pixels (replaces the architecture's ImageNet input size)")
    lr: float | None = _opt(None, "peak learning rate (default: 1e-3 for adamw, 0.1 * batch / 256 for sgd)")
    optimizer: str = _opt("adamw", "adamw | sgd (momentum 0.9, nesterov)", choices=lambda: OPTIMIZERS)
    weight_decay: float | None = _opt(None, "default: 0.05 for adamw, 1e-4 for sgd; never on norms and biases")
    label_smoothing: float = _opt(0.1, "on the training loss only; val_loss is plain cross-entropy")
    warmup_epochs: float = _opt(1.0, "linear warm-up, then cosine decay to 0 (both per step)")
    random_resized_crop: bool = _opt(True, "random crops; --no-random-resized-crop is the thesis recipe: "
                                           "squash resize, flip, ±10° rotation")
    hflip: bool = _opt(True, "random horizontal flips")
    rotation: float | None = _opt(None, "max random rotation in degrees (default: 10 without random crops, else 0)")
    train_split: str = _opt("train_mini", "training split name")
    val_split: str = _opt("val", "validation split name (chooses the best epoch)")
    workers: int | None = _opt(None, "data loading processes (default: half the CPU cores, at most 8)")
    seed: int = _opt(0, "seed of the shuffle, the augmentation and the head's initialisation")
    amp: bool | None = _opt(None, "float16 mixed precision (default: on for CUDA)")
    channels_last: bool | None = _opt(None, "channels-last memory format (default: on; measured 1.1-1.8x faster on CPU)")
    device: str = _opt("auto", "auto | cpu | cuda | cuda:N")
    calibrate: bool = _opt(False, "at the end, fit a temperature on the val split so the probabilities mean what "
                                  "they say (python -m inat calibrate; the val split also chose the best epoch)")

    def __post_init__(self):
        get_spec(self.arch)  # unknown names fail here, with the list of valid ones
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, not {self.init!r}")
        if self.init_from and self.init == "scratch":
            raise ValueError("--init-from starts from a bundle's weights: use it with --init imagenet or transfer")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.lr is None:
            self.lr = 1e-3 if self.optimizer == "adamw" else 0.1 * self.batch_size / 256
        if self.weight_decay is None:
            self.weight_decay = 0.05 if self.optimizer == "adamw" else 1e-4
        if self.rotation is None:
            self.rotation = 0.0 if self.random_resized_crop else 10.0
        if self.workers is None:
            self.workers = max(1, min(8, (os.cpu_count() or 2) // 2))

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def resumed_config(given: TrainConfig, saved: dict) -> TrainConfig:
    """The saved config, with this command line's device and out (neither changes the numbers).

    Everything else must stay as the run began: the schedule depends on epochs and batch size, and
    even the number of loader workers decides where augmentation draws its random numbers.
    """
    cfg = TrainConfig.from_dict({**saved, "device": given.device, "out": given.out})
    ignored = [f.name for f in fields(TrainConfig)
               if f.name not in ("device", "out") and getattr(given, f.name) != getattr(cfg, f.name)]
    if ignored and int(os.environ.get("RANK", "0")) == 0:
        print(f"--resume: keeping the run's saved {', '.join(ignored)} (the command line differs)", file=sys.stderr)
    return cfg
