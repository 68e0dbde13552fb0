"""Which of naturalist's measured figures belong to the set-up a user has (which experts are installed).

naturalist's accuracy depends on its experts: the same photos give 82.7 % with the bird expert and far
less without it. `benchmarks/open_world.py` measures it with the experts installed on its machine and writes
assets/naturalist_metrics.json; this module is the one place that picks the figures for the experts installed
here, so the picker, About and `python -m inat models` say the same, and a figure measured with an expert the
user lacks is never shown.

The file keeps one entry a set-up, keyed by `setup_key` of its experts' names:

    {"measured_by": ..., "setups": {"inat2017-birds+inat2017-insects": {"experts": [...], "top1": ..., ...}}}

A file written before set-ups were recorded holds one set-up's figures at its top level: `experts` names it,
and without that key it is LEGACY_EXPERTS, the two experts installed when it was measured.
"""
from __future__ import annotations

from typing import Iterable

# The experts installed when assets/naturalist_metrics.json was measured before it recorded its set-up
# (benchmarks/README.md, 2026-12-01: "the starter, the router and two installed experts").
LEGACY_EXPERTS = ("inat2017-birds", "inat2017-insects")
NO_EXPERTS = "no experts"


def setup_key(experts: Iterable[str]) -> str:
    """The name of a set-up: its experts' names sorted and joined by '+', or 'no experts'."""
    names = sorted(set(experts))
    return "+".join(names) if names else NO_EXPERTS


def setup_figures(metrics: dict | None, experts: Iterable[str]) -> dict:
    """naturalist's measured figures for the set-up with these `experts` installed (its `experts` key lists
    them); {} when that set-up was never measured, so nothing measured elsewhere is shown as its own."""
    metrics = metrics or {}
    key = setup_key(experts)
    if "setups" in metrics:
        entry = (metrics.get("setups") or {}).get(key)
        return {**entry, "experts": sorted(set(experts))} if isinstance(entry, dict) else {}
    if not any(k in metrics for k in ("top1", "open_world")):
        return {}
    measured_with = metrics.get("experts", LEGACY_EXPERTS)
    if setup_key(measured_with) != key:
        return {}
    return {**metrics, "experts": sorted(set(experts))}


def with_setup(metrics: dict | None, experts: Iterable[str], figures: dict) -> dict:
    """`metrics` (the whole file) with `figures` recorded as the set-up of `experts`, other set-ups kept
    (a legacy top-level entry becomes its own set-up). What benchmarks/open_world.py writes."""
    metrics = dict(metrics or {})
    setups = dict(metrics.get("setups") or {})
    if "setups" not in metrics and any(k in metrics for k in ("top1", "open_world")):
        legacy = {k: v for k, v in metrics.items() if k not in ("measured_by",)}
        setups[setup_key(legacy.get("experts", LEGACY_EXPERTS))] = {**legacy, "experts": sorted(
            legacy.get("experts", LEGACY_EXPERTS))}
    setups[setup_key(experts)] = {**figures, "experts": sorted(set(experts))}
    return {"measured_by": metrics.get("measured_by", "benchmarks/open_world.py"), "setups": setups}
