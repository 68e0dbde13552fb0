"""Turning the thesis's checkpoints into bundles.

The thesis saved either a whole pickled torchvision model (`torch.save(model)`) or a state_dict of
efficientnet_v2_s with a 10,000-way head, plus a categories file (its TSV, or an iNat JSON).
Unpickling a file can run arbitrary code, so it happens here only, and only when the caller says
the file is trusted (`--trust-pickle`). A safetensors state dict needs no trust.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ..core.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocess
from ..core.taxonomy import load_categories
from .architectures import create_model, get_spec, list_models
from .bundle import Bundle, looks_like_pickle, save_bundle

# The thesis's own inference pipeline: Resize((224, 224)) + ToTensor + ImageNet Normalize.
THESIS_PREPROCESS = Preprocess(input_size=224, resize="squash", interpolation="bilinear",
                               mean=IMAGENET_MEAN, std=IMAGENET_STD)


class ImportRefused(PermissionError):
    """The checkpoint is a pickle and the caller has not said it trusts it."""


def read_checkpoint(path: Path, trust_pickle: bool) -> dict:
    """The state dict inside a checkpoint file: safetensors, or (trusted only) a pickle."""
    import torch  # keeps torch out of start-up
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if not looks_like_pickle(path):
        from safetensors.torch import load_file  # loads torch: only when importing
        try:
            return load_file(str(path))
        except Exception:
            raise ValueError(f"{path}: neither a safetensors file nor a PyTorch checkpoint") from None
    if not trust_pickle:
        raise ImportRefused(
            f"{path} is a pickle: loading it runs whatever code it contains. Only if you trust its "
            "source (e.g. you made it yourself), run again with --trust-pickle")
    obj = torch.load(path, map_location="cpu", weights_only=False)  # trusted by the caller
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
            elif isinstance(obj.get(key), torch.nn.Module):
                return obj[key].state_dict()
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            # DataParallel checkpoints prefix every key with "module."
            return {k.removeprefix("module."): v for k, v in obj.items()}
    raise ValueError(f"{path}: holds a {type(obj).__name__}, not a model or a state dict")


def infer_arch(state: dict, num_classes: int) -> str:
    """The registered architecture whose parameter names and shapes match `state` exactly."""
    import torch  # keeps torch out of start-up
    # efficientnet_v2_s first: it is what the thesis trained.
    for name in sorted(list_models(), key=lambda n: n != "efficientnet_v2_s"):
        with torch.device("meta"):  # shapes only, no memory
            own = create_model(name, num_classes).state_dict()
        if set(own) == set(state) and all(own[k].shape == state[k].shape for k in own):
            return name
    raise ValueError(f"the checkpoint matches none of the architectures {', '.join(list_models())} "
                     f"with {num_classes} classes")


def _dataset_of(taxa) -> str:
    """What the classes say about the training data: the full iNat 2021 label space or a subset of it."""
    n = len(taxa)
    return "iNat 2021 (all 10,000 species)" if n == 10_000 else f"iNat 2021-style, {n} classes"


def import_checkpoint(checkpoint, categories, out, *, trust_pickle: bool = False, arch: str | None = None,
                      name: str | None = None, half: bool = False, command: str | None = None) -> Bundle:
    """Write a bundle at `out` from a thesis checkpoint and its categories file. Returns the bundle.

    Weights stay fp32 unless `half` so predictions equal the thesis's own. `command` is recorded in the
    provenance (the CLI passes its own command line).
    """
    checkpoint, out = Path(checkpoint), Path(out)
    taxa = load_categories(categories)
    state = read_checkpoint(checkpoint, trust_pickle)
    arch = arch or infer_arch(state, len(taxa))
    get_spec(arch)
    head_w = state.get(get_spec(arch).head + ".weight")
    if head_w is not None and head_w.shape[0] != len(taxa):
        raise ValueError(f"{checkpoint}: the model has {head_w.shape[0]} outputs but {categories} lists {len(taxa)} classes")
    bundle = Bundle(
        name=name or out.name, arch=arch, classes=taxa, preprocess=THESIS_PREPROCESS,
        run={"init": "imported", "dataset": "iNat 2021", "img_size": THESIS_PREPROCESS.input_size},
        provenance={"imported_from": checkpoint.name, "categories": Path(categories).name,
                    "dataset": _dataset_of(taxa), "date": _dt.date.today().isoformat(),
                    "command": command or "python -m inat import"})
    model = create_model(arch, len(taxa))
    model.load_state_dict(state)  # strict: any mismatch is an error, not a silently broken model
    save_bundle(bundle, out, model, half=half)
    return bundle
