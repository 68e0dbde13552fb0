"""Where models are and how to find them by name (like torchvision's `models/_api.py`).

    resolve("starter")            the built-in model (weights from an installed package)
    resolve("plants47")           a bundle folder in the weights folder ($INAT_WEIGHTS, else weights/)
    resolve("path/to/bundle")     any bundle folder
    resolve(None)                 the default model

The bundle format (`inat.models.bundle`) and the architectures (`inat.models.architectures`) know nothing of this: a new
built-in registers here, in BUILTINS.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from .bundle import JSON_NAME, Bundle, BundleError, load_bundle
from ..naturalist.ensemble import NAME as NATURALIST
from ..naturalist.ensemble import Ensemble
from ..naturalist.manifest import default_gate, load_parameters
from ..naturalist.scope import expert_group
from ..naturalist.setup_metrics import setup_figures
from ..core.taxonomy import RANKS
from .starter import NAME as STARTER
from .starter import shipped_calibration, starter_bundle
from ..core.paths import WEIGHTS

log = logging.getLogger("inat")


def naturalist() -> Ensemble:
    """The starter, the router and every installed expert: a downloaded expert or any bundle whose scope names a
    group (plants47: Plantae; a user's own regional model). One per group: one with a fitted gate first, then by
    folder name. Its parameters come from one validated manifest (`inat.naturalist.manifest`). An expert without a
    fitted gate gets the most conservative fitted one and is listed in `unmeasured`: its figures inside naturalist
    were never measured."""
    params = load_parameters()
    experts: dict[str, Bundle] = {}
    for b in sorted(list_bundles(), key=lambda b: (b.name not in params.gates, b.path.name if b.path else b.name)):
        group = expert_group(b) if (b.expert or b.scope) else None
        if group and group not in experts:
            # The gates below were fitted on the shipped calibration's probabilities; an expert downloaded
            # before its calibration shipped has none in its bundle.json and takes the shipped one here.
            b.calibration = b.calibration or shipped_calibration(b.name)
            experts[group] = b
    gates = {g: params.gates.get(b.name) or default_gate(params.gates) for g, b in experts.items()}
    unmeasured = [b.name for b in experts.values() if b.name not in params.gates]
    for name in unmeasured:
        log.warning("%s joins naturalist with a default known-species gate: its figures there are unmeasured "
                    "(scripts/fit_expert_gates.py fits one on labelled photos)", name)
    # The figures measured with exactly these experts installed (inat.naturalist.setup_metrics), never another set-up's.
    metrics = setup_figures(params.metrics, [b.name for b in experts.values()])
    genus_gates = {g: params.genus_gates[b.name] for g, b in experts.items() if b.name in params.genus_gates}
    return Ensemble(starter_bundle(), experts, alpha=params.alpha, gates=gates, genus_gates=genus_gates,
                    starter_gate=params.starter_gate, coverage=params.coverage, metrics=metrics,
                    unmeasured=unmeasured, downgraded=params.downgraded)


# Built-in models: name → a function returning its Bundle or Ensemble (no weights read until it is loaded).
BUILTINS: dict[str, Callable[[], Bundle | Ensemble]] = {NATURALIST: naturalist, STARTER: starter_bundle}


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
    """The name of the default model: the bundle marked `"default": true` in the weights folder, else naturalist."""
    return next((b.path.name for b in list_bundles() if b.default), NATURALIST)


def resolve(name_or_path: str | os.PathLike | None = None, *, names_only: bool = False) -> Bundle | Ensemble:
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


def _row(b: Bundle | Ensemble, name: str, path: str | None, builtin: bool, default: str) -> dict:
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
