"""Where models are and how to find them by name (like torchvision's `models/_api.py`): it knows no model.

    resolve("starter")            a built-in model: one that registered itself here
    resolve("plants47")           a bundle folder in the weights folder ($INAT_WEIGHTS, else weights/)
    resolve("path/to/bundle")     any bundle folder
    resolve(None)                 the default model

A built-in registers a function that returns it (nothing is read until it is called), next to its own code:

    register("starter", starter_bundle)                  # inat/models/starter.py
    register("naturalist", naturalist, default=True)     # inat/naturalist/assemble.py

What it returns is a Bundle or anything that answers the same questions (`inat.models.protocol`).
The bundle format (`inat.models.bundle`) and the architectures know nothing of this.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..core.paths import WEIGHTS
from ..core.taxonomy import RANKS
from .bundle import JSON_NAME, Bundle, BundleError, load_bundle

# Built-in models: name → a function returning the model (no weights read until it is called); the default first.
BUILTINS: dict[str, Callable[[], Bundle]] = {}
_DEFAULT: list[str] = []   # the built-in that is the default when no bundle is marked default


def register(name: str, make: Callable[[], Bundle], *, default: bool = False) -> Callable[[], Bundle]:
    """Make `name` a built-in model returned by `make()`; `default`: it is the default model (listed first).
    Returns `make`, so it can be used as a decorator's body."""
    if default:
        others = {k: v for k, v in BUILTINS.items() if k != name}
        BUILTINS.clear()
        BUILTINS.update({name: make, **others})
        _DEFAULT[:] = [name]
    else:
        BUILTINS[name] = make
    return make


def weights_dir() -> Path:
    """Where named bundles live: $INAT_WEIGHTS, else the `weights/` folder of this repository."""
    env = os.environ.get("INAT_WEIGHTS")
    return Path(env) if env else WEIGHTS


def list_bundles(folder: Path | None = None) -> list[Bundle]:
    """Every readable bundle in the weights folder, sorted by folder name (unreadable ones are skipped)."""
    folder = folder or weights_dir()
    out = []
    for meta in sorted(folder.glob(f"*/{JSON_NAME}")) if folder.is_dir() else []:
        try:
            out.append(load_bundle(meta.parent))
        except BundleError:
            continue
    return out


def model_names() -> list[str]:
    """Every name `resolve` accepts without a path: the built-ins, then the bundles in the weights folder."""
    return list(BUILTINS) + [b.path.name for b in list_bundles()]


def default_model() -> str:
    """The name of the default model: the bundle marked `"default": true` in the weights folder, else the built-in
    registered as the default (naturalist), else the first built-in."""
    return next((b.path.name for b in list_bundles() if b.default), None) or (_DEFAULT or list(BUILTINS))[0]


def resolve(name_or_path: str | os.PathLike | None = None, *, names_only: bool = False) -> Bundle:
    """The Bundle for a built-in name, a bundle name in the weights folder or (unless `names_only`) a bundle
    path; None means the default model. Raises BundleError listing what is available."""
    name = str(name_or_path) if name_or_path is not None else default_model()
    if name in BUILTINS:
        return BUILTINS[name]()
    is_name = bool(name) and not any(c in name for c in "/\\") and not name.startswith(".")
    if is_name and (weights_dir() / name / JSON_NAME).is_file():
        return load_bundle(weights_dir() / name)
    if not names_only and Path(name).exists():
        return load_bundle(name)
    hint = "" if names_only else " (or a bundle folder path)"
    raise BundleError(f"{name}: no such model; available: {', '.join(model_names())}{hint}")


def model_rows() -> list[dict]:
    """The built-in models and every bundle in the weights folder, as `python -m inat models --json` prints them."""
    default = default_model()
    rows = []
    for name, make in BUILTINS.items():
        try:
            b = make()
        except OSError:  # a built-in whose files are missing (a broken install) is left out, not fatal
            continue
        rows.append(_row(b, name, None, True, default))
    for b in list_bundles():
        rows.append(_row(b, b.path.name, str(b.path), False, default))
    return rows


def _row(b: Bundle, name: str, path: str | None, builtin: bool, default: str) -> dict:
    """`models --json`'s record: the contract keys, then the species count and the measured top-1 with what
    it was measured on (`val_top1` is the validation figure of a trained bundle, None for the others), and for
    naturalist the experts whose figures inside it were never measured (`unmeasured`)."""
    m = b.metrics
    top1 = m.get("val_top1", m.get("top1"))
    return {"name": name, "path": path, "builtin": builtin, "arch": b.arch, "classes": len(b.classes),
            "default": name == default, "val_top1": m.get("val_top1"),
            "species": sum(t.rank not in RANKS[:-1] for t in b.classes), "top1": top1,
            "measured_on": (m.get("split") or m.get("data")) if top1 is not None else None,
            "expert": bool(getattr(b, "expert", False)),
            "unmeasured": list(getattr(b, "unmeasured", []))}
