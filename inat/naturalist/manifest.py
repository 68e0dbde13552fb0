"""naturalist's parameters, read from one manifest and checked when read.

    assets/naturalist.json          names the parts below (all in assets/)
      gates    expert_gates.json       each expert's known-species gate (a, b) and the starter's class gate
      priors   naturalist_priors.json  alpha (how far the starter's species are trusted where no gate is) and
                                       coverage (each starter class's share of its group's species)
      metrics  naturalist_metrics.json what benchmarks/open_world.py measured, and with which experts

`load_parameters()` returns them validated. A part that is missing, unreadable or malformed is never taken
silently: it is replaced by the safe choice (no gate → the conservative default gate, which trusts experts
least; no priors → trust in the starter's species of none), one warning line on the `inat` logger says so,
and `Parameters.downgraded` lists it, so `models` and About can say the figures do not hold.
The router's weights are read by `inat.naturalist.router`, which refuses a bad file with one line.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..core.paths import ASSETS
from .router_groups import GROUPS

MANIFEST = "naturalist.json"
FORMAT = "inat-naturalist-manifest"
PARTS = ("gates", "priors", "metrics")
# The gate of an expert nobody fitted one for, when no fitted gate exists either: about the insect expert's.
DEFAULT_GATE = (-1.0, 0.7)
NO_TRUST = 0.0   # alpha where the priors cannot be read: the starter's species of such a group are not trusted

log = logging.getLogger("inat")


@dataclass
class Parameters:
    """What naturalist needs besides its networks, validated."""

    gates: dict = field(default_factory=dict)         # expert name → (a, b)
    genus_gates: dict = field(default_factory=dict)   # expert name → (a, b) of its known-genus gate
    starter_gate: dict = field(default_factory=dict)  # {"weights": [w0, w1, w2], "groups": [...]} or {}
    alpha: dict = field(default_factory=dict)         # group → trust in the starter's species (no gate)
    coverage: dict = field(default_factory=dict)      # starter class id (str) → its coverage of its group
    metrics: dict = field(default_factory=dict)
    downgraded: list = field(default_factory=list)    # the parts that could not be used, one line each


class ManifestError(ValueError):
    """A part of naturalist's manifest that is malformed; the message is one line naming the file."""


def _number(x, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not lo <= float(x) <= hi or math.isnan(float(x)):
        raise ManifestError(f"{what} must be a number in [{lo}, {hi}], not {x!r}")
    return float(x)


def check_gates(data: dict) -> tuple[dict, dict]:
    """(expert name → (a, b), the starter's gate) of an expert_gates.json; ManifestError when malformed."""
    gates = {}
    for name, g in (data.get("gates") or {}).items():
        gates[name] = (_number(g.get("a"), f"gates.{name}.a"), _number(g.get("b"), f"gates.{name}.b"))
        genus = g.get("genus")
        if genus is not None:
            _number(genus.get("a"), f"gates.{name}.genus.a"), _number(genus.get("b"), f"gates.{name}.genus.b")
    starter = data.get("starter") or {}
    if starter:
        weights = starter.get("weights")
        if not isinstance(weights, list) or len(weights) not in (3, 4):
            raise ManifestError(f"starter.weights must be 3 or 4 numbers, not {weights!r}")
        [_number(w, "starter.weights") for w in weights]
        for g, wg in (starter.get("by_group") or {}).items():
            if g not in GROUPS or not isinstance(wg, list) or len(wg) != len(weights):
                raise ManifestError(f"starter.by_group.{g} must be {len(weights)} numbers for a group the router has")
            [_number(w, f"starter.by_group.{g}") for w in wg]
        unknown = set(starter.get("groups") or ()) - set(GROUPS)
        if unknown:
            raise ManifestError(f"starter.groups names groups the router does not have: {', '.join(sorted(unknown))}")
    return gates, starter


def check_priors(data: dict) -> tuple[dict, dict]:
    """(alpha, coverage) of a naturalist_priors.json; ManifestError when malformed."""
    alpha = {g: _number(v, f"alpha.{g}", 0.0, 1.0) for g, v in (data.get("alpha") or {}).items()}
    coverage = {str(k): _number(v, f"coverage.{k}", 0.0, 1.0) for k, v in (data.get("coverage") or {}).items()}
    if not alpha or not coverage:
        raise ManifestError("alpha and coverage must both be given")
    return alpha, coverage


def _read(folder: Path, name: str) -> dict:
    with open(folder / name, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ManifestError("not a JSON object")
    return data


def load_parameters(folder: Path = ASSETS) -> Parameters:
    """naturalist's validated parameters from `folder`/naturalist.json and the parts it names (see the module)."""
    out = Parameters()
    try:
        manifest = _read(folder, MANIFEST)
        if manifest.get("format") != FORMAT:
            raise ManifestError(f"format is {manifest.get('format')!r}, not {FORMAT!r}")
        files = {part: str(manifest[part]) for part in PARTS}
    except (OSError, ValueError, KeyError) as e:
        files = {}
        out.downgraded.append(f"{folder / MANIFEST}: {_why(e)}; {CONSEQUENCE['manifest']}")
    for part in PARTS:
        if part not in files:
            continue
        try:
            data = _read(folder, files[part])
            if part == "gates":
                out.gates, out.starter_gate = check_gates(data)
                out.genus_gates = {n: (float(g["genus"]["a"]), float(g["genus"]["b"]))
                                   for n, g in data["gates"].items() if g.get("genus")}
            elif part == "priors":
                out.alpha, out.coverage = check_priors(data)
            else:
                out.metrics = data
        except (OSError, ValueError) as e:
            out.downgraded.append(f"{folder / files[part]}: {_why(e)}; {CONSEQUENCE[part]}")
    if not out.alpha:
        out.alpha = {g: NO_TRUST for g in GROUPS}
    for line in out.downgraded:
        log.warning("naturalist runs downgraded: %s", line)
    return out


CONSEQUENCE = {
    "manifest": "experts get the default gate, the starter's species are trusted in no group, no figures are shown",
    "gates": "experts get the default gate and the starter's species are trusted in no group (its figures do not "
             "hold)",
    "priors": "the starter's species are trusted in no group without a gate (its figures do not hold)",
    "metrics": "no measured figures are shown"}


def _why(e: Exception) -> str:
    if isinstance(e, FileNotFoundError):
        return "missing"
    if isinstance(e, KeyError):
        return f"names no {e.args[0]} file"
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def default_gate(gates: dict) -> tuple[float, float]:
    """A conservative known-species gate for an expert without its own: of the fitted experts' gates (name → (a, b)),
    the one that trusts a confident answer (top probability 0.9) least; DEFAULT_GATE when none was fitted."""
    return min(gates.values(), key=lambda ab: ab[0] + ab[1] * math.log(9.0)) if gates else DEFAULT_GATE
