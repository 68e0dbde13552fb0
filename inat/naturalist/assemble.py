"""The `naturalist` built-in: the starter, the router and every installed expert, put together from what is in
the weights folder and the validated manifest, and registered as the default model."""
from __future__ import annotations

import logging

from ..models.bundle import Bundle
from ..models.registry import list_bundles, register
from ..models.starter import shipped_calibration, starter_bundle
from .ensemble import NAME, Ensemble
from .manifest import default_gate, load_parameters
from .scope import expert_group
from .setup_metrics import setup_figures

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


register(NAME, naturalist, default=True)
