"""The `naturalist` model: one answer for any photo, from the starter, the router and the installed experts.

For one photo the router gives P(group) for plants, birds, insects, other organisms and no organism.
An installed expert for a group (iNaturalist 2017 birds, insects, plants) names the species inside it:

    P(species s of expert E) = P(E's group) × g(photo) × P_E(s | not background)

where the gate g = P(the photo shows a species E knows) comes from E's top probability
(assets/expert_gates.json, fitted by scripts/fit_expert_gates.py: an expert is as sure of a bird it has
never seen as of one it knows, and without the gate its "pretty sure" species were wrong for 14 % of
BIRDS-525's photos, `no_gate` there). The group's remaining 1 - g is shared as for a group without an expert.

The starter's own classes of the group then take their share of that rest, as the starter shares it,
times a second gate s = P(the photo falls under the starter's first class of the group), from the
starter's share of the group on that class and the class's coverage (the share of the group's iNat 2021
species under its taxon: the starter's "dragonfly" is the order Odonata, 12 % of the insects; its
"monarch" one species): fitted on BIRDS-525 and BUTTERFLIES-100 by scripts/fit_expert_gates.py, for
the groups in its `groups` (birds, insects). A group without that gate (plants, other organisms) uses the
flat prior `alpha`: the share of the group's photos that show a species the starter knows at all
(assets/naturalist_priors.json, from the 10,000 species of iNaturalist 2021: 0.2 % of the plants, 3.3 %
of the other organisms). The rest goes to unnamed
members of the group ("a plant, not one the starter knows"): they count in the roll-up but are never
ranked as species, so a plant the starter cannot name gets "Plantae", not the nearest of its 29
ImageNet plants, and a mammal it cannot name gets "Mammalia". Other organisms span kingdoms, so their
unnamed members follow the starter's classes down to the rank of class (Mammalia, Actinopterygii,
Agaricomycetes…), shared as the starter shares the group. "No organism" goes to the starter's outputs that
are no organism (objects, scenes), so it counts against `in_scope` as the starter's own scope does. An expert whose group gets less than
EXPERT_MIN is not run: its group stays with the starter. A species that two models know (an ImageNet
bird class and the bird expert's) is one taxon, matched by scientific name, and takes the expert's
record (iNaturalist's current taxonomy and taxon id). The roll-up (ancestor, rank table, in_scope) then
works over this one merged distribution.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.probability import logit, sigmoid
from ..core.record import Identification, identify
from ..core.rollup import TaxonTree
from ..core.taxonomy import Taxon
from ..models.bundle import Bundle
from ..runtime.engine import Engine
from .groups import UNNAMED  # group → the lineage of its unnamed member, from the one groups table
from .router_groups import GROUPS, group_of
from .scope import GroupModel

NAME = "naturalist"
# UNNAMED (inat.naturalist.groups) gives each group's unnamed member its lineage; "other organisms" span kingdoms: theirs
# follow the starter's classes down to the rank of class, and one with no lineage takes what the starter gives no class.
UNNAMED_DEPTH = ("kingdom", "phylum", "class")
GENUS_LINEAGE = ("kingdom", "phylum", "class", "order", "family", "genus")   # an expert genus member's lineage
EXPERT_MIN = 0.02   # an expert whose group gets less probability than this is not run
DEFAULT_COVERAGE = 1e-3   # a starter class without a recorded coverage: one species among a thousand


@dataclass
class Ensemble:
    """What `naturalist` is made of (`inat.naturalist.assemble` builds it from what is installed; `inat.identify.predict`
    runs it through its `runner`)."""

    starter: Bundle
    experts: dict[str, Bundle] = field(default_factory=dict)   # group → expert bundle
    alpha: dict[str, float] = field(default_factory=dict)      # group → how far the starter's species are trusted
    gates: dict[str, tuple] = field(default_factory=dict)      # group → (a, b) of its expert's known-species gate
    genus_gates: dict[str, tuple] = field(default_factory=dict)  # group → (a, b) of its expert's known-genus gate
    starter_gate: dict = field(default_factory=dict)           # {"weights", "by_group", "groups"}; {}: alpha
    coverage: dict = field(default_factory=dict)               # starter class id → its coverage of its group
    name: str = NAME
    metrics: dict = field(default_factory=dict)                # what benchmarks/open_world.py measured
    unmeasured: list = field(default_factory=list)             # experts running with a default gate (no figures)
    downgraded: list = field(default_factory=list)             # parameters that could not be read (one line each)
    path = None                                                # built in: no folder of its own
    arch = "naturalist"                                        # the starter's network, the router, the experts'

    @property
    def classes(self) -> list[Taxon]:
        return self.mixture().taxa

    def mixture(self) -> "Mixture":
        return Mixture(self.starter, self.experts, self.alpha, self.gates, self.starter_gate, self.coverage,
                       self.genus_gates)

    def runner(self, **options) -> "NaturalistRunner":
        """What runs it on photos: `inat.identify.predict` asks a model for its runner (a plain Bundle has none and
        runs as one network)."""
        return NaturalistRunner(self, **options)

    @property
    def has_scope(self) -> bool:
        return True

    @property
    def provenance(self) -> dict:
        return {"parts": ", ".join([f"{self.starter.name} (every photo)", "router (assets/router.safetensors)"]
                                   + [f"{b.name} ({group})" for group, b in self.experts.items()])}

    # -- what it says about itself (inat.models.protocol.Model): a router over a starter and the experts installed
    composite = True  # a class attribute, not a field

    @property
    def calibration(self) -> dict:
        return {}  # none of the whole: each part carries its own

    @property
    def scope(self) -> dict:
        return {}  # no one taxon: any organism

    def parts(self) -> list[Bundle]:
        return [self.starter, *self.experts.values()]

    def experts_by_group(self) -> dict[str, Bundle]:
        return dict(self.experts)


def known_species_gate(top: np.ndarray, a: float, b: float) -> np.ndarray:
    """sigmoid(a + b * logit(top)): the probability that a photo whose expert gives its first species `top`
    (of the non-background mass) shows a species the expert knows. Fitted by scripts/fit_expert_gates.py."""
    return sigmoid(a + b * logit(top))


def starter_class_gate(top_share: np.ndarray, coverage: np.ndarray, weights, top_probability=None) -> np.ndarray:
    """sigmoid(w0 + w1 * logit(top_share) + w2 * ln(coverage) [+ w3 * logit(top_probability)]): the probability
    that a photo of the group falls under the starter's first taxon of the group, given the starter's share of the
    group on that taxon, the taxon's coverage of the group and, with a fourth weight, the starter's own probability
    of that taxon among all its outputs (how sure it is that the photo is one of its classes at all: an ImageNet
    cabbage, not a wildflower it has no class for). A taxon is the starter's classes that share a scientific name
    (its 120 dog breeds are one, Canis familiaris). Fitted by scripts/fit_expert_gates.py."""
    w = [float(v) for v in weights]
    cov = np.log(np.clip(np.asarray(coverage, dtype=np.float64), 1e-9, 1.0))
    z = w[0] + w[1] * logit(top_share) + w[2] * cov
    if len(w) > 3:
        z = z + w[3] * logit(np.asarray(top_probability, dtype=np.float64))
    return sigmoid(z)


def first_taxon(share: np.ndarray, within: np.ndarray, taxon: np.ndarray, coverage: np.ndarray):
    """(share, coverage, probability, a class) of each photo's first taxon of a group: `share` (N, C) the starter's
    share of the group on each of the group's C classes, `within` (N, C) their probabilities among all its outputs,
    `taxon` (C,) which taxon each class is (classes sharing a scientific name are one), `coverage` (C,) each
    class's; the class is the position (in C) of the taxon's first class, what a gate's fit judges right or not."""
    taxa, col = np.unique(taxon, return_inverse=True)
    onehot = np.zeros((len(taxon), len(taxa)))
    onehot[np.arange(len(taxon)), col] = 1.0
    share_t, prob_t = share @ onehot, within @ onehot          # (N, taxa)
    top = share_t.argmax(axis=1)
    rows = np.arange(len(share))
    cov_t = np.zeros(len(taxa))
    np.maximum.at(cov_t, col, coverage)                        # the classes of one taxon share its coverage
    first_class = np.argmax(onehot[:, top], axis=0)            # the first class of each photo's first taxon
    return share_t[rows, top], cov_t[top], prob_t[rows, top], first_class


class Mixture:
    """The merged class list and the arithmetic that combines the parts' probabilities over it."""

    def __init__(self, starter: Bundle, experts: dict[str, Bundle], alpha: dict[str, float] | None = None,
                 gates: dict[str, tuple[float, float]] | None = None, starter_gate: dict | None = None,
                 coverage: dict | None = None, genus_gates: dict[str, tuple[float, float]] | None = None):
        self.starter, self.experts = starter, experts
        self.alpha = {g: float((alpha or {}).get(g, 1.0)) for g in GROUPS}
        self.gates = {g: (float(a), float(b)) for g, (a, b) in (gates or {}).items() if g in experts}
        starter_gate = starter_gate or {}
        self.starter_gate = tuple(starter_gate.get("weights") or ())      # pooled: a group without its own weights
        self.starter_gate_of = {g: tuple(w) for g, w in (starter_gate.get("by_group") or {}).items()}
        self.starter_gated = set(starter_gate.get("groups") or ()) if len(self.starter_gate) in (3, 4) else set()
        taxa: list[Taxon] = []
        owner: list[str] = []
        shared: dict[str, int] = {}
        # The experts' classes first claim their scientific names; the starter's classes join them.
        self.expert_map: dict[str, np.ndarray] = {}
        by_name: dict[str, int] = {}
        for group, bundle in experts.items():
            idx = []
            for t in bundle.classes:
                j = by_name.get(t.scientific_name)
                if j is None:
                    j = by_name[t.scientific_name] = len(taxa)
                    taxa.append(t)
                    owner.append(bundle.name)
                idx.append(j)
            self.expert_map[group] = np.asarray(idx, dtype=np.int64)
        starter_idx = []
        for t in starter.classes:
            j = by_name.get(t.scientific_name) if t.rank == "species" else None
            if j is None:
                j = len(taxa)
                taxa.append(t)
                owner.append(starter.name)
            else:
                shared[t.scientific_name] = j
            starter_idx.append(j)
        self.taxa, self.owner = taxa, owner
        self.shared = len(shared)
        self.starter_map = np.asarray(starter_idx, dtype=np.int64)     # starter class → merged entry
        self.starter_outputs = np.asarray(starter.output_index)        # starter class → starter output
        self.starter_group = np.asarray([GROUPS.index(group_of(t.taxonomy)) for t in starter.classes])
        coverage = {str(k): v for k, v in (coverage or {}).items()}
        self.coverage = np.asarray([float(coverage.get(str(t.class_id), DEFAULT_COVERAGE)) for t in starter.classes])
        # The starter's classes that share a scientific name are one taxon to the gate (dog breeds: Canis familiaris).
        names = {}
        self.starter_taxon = np.asarray([names.setdefault(t.scientific_name, len(names)) for t in starter.classes])
        self.expert_entries = {g: set(m.tolist()) for g, m in self.expert_map.items()}
        self.starter_entries = set(self.starter_map.tolist())
        # Unnamed members, after the classes: what the router says is of a group and no model names.
        # `tree_taxa` (classes, then these) is what the roll-up sums over.
        self.unnamed: list[Taxon] = []
        self.unnamed_of_group: dict[str, int] = {}                  # the group's own (or lineage-less) member
        self.unnamed_of_class = np.zeros(len(starter.classes), dtype=np.int64)   # starter class → its member
        keys: dict[tuple, int] = {}

        def member(lineage: dict) -> int:
            key = tuple(lineage.get(r) for r in UNNAMED_DEPTH)
            if key not in keys:
                rank = next((r for r in reversed(UNNAMED_DEPTH) if lineage.get(r)), "life")
                keys[key] = len(self.taxa) + len(self.unnamed)
                self.unnamed.append(Taxon(-1, lineage.get(rank, "an organism"), None, rank, dict(lineage)))
            return keys[key]
        for group, lineage in UNNAMED.items():
            self.unnamed_of_group[group] = member(lineage)
        for i, t in enumerate(starter.classes):
            group = GROUPS[self.starter_group[i]]
            self.unnamed_of_class[i] = self.unnamed_of_group[group] if UNNAMED[group] else member(
                {r: t.taxonomy.get(r) for r in UNNAMED_DEPTH if t.taxonomy.get(r)})
        self._genus_members(genus_gates or {})
        self.tree_taxa = self.taxa + self.unnamed

    def _genus_members(self, genus_gates: dict) -> None:
        """Each gated expert's genera, with an unnamed member each ("a Haliaeetus, not a species the expert
        knows"): what its genus gate gives a photo of a genus it knows beyond the species it knows."""
        self.genus_gates = {g: (float(a), float(b)) for g, (a, b) in genus_gates.items() if g in self.experts}
        self.expert_genus: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # group → (class x genus one-hot, members)
        for group in self.genus_gates:
            classes = self.experts[group].classes
            cols: dict[str, int] = {}
            onehot = []
            members = []
            for t in classes:
                genus = t.taxonomy.get("genus")
                if genus and genus not in cols:
                    cols[genus] = len(cols)
                    lineage = {r: t.taxonomy[r] for r in GENUS_LINEAGE if t.taxonomy.get(r)}
                    members.append(len(self.taxa) + len(self.unnamed))
                    self.unnamed.append(Taxon(-1, genus, None, "genus", lineage))
                onehot.append(cols.get(genus, -1))
            matrix = np.zeros((len(classes), len(cols)))
            known = np.asarray(onehot) >= 0
            matrix[np.flatnonzero(known), np.asarray(onehot)[known]] = 1.0
            self.expert_genus[group] = (matrix, np.asarray(members, dtype=np.int64))

    def combine(self, starter_probs: np.ndarray, groups: np.ndarray, expert_probs: dict) -> np.ndarray:
        """(N, len(tree_taxa)) merged probabilities: the classes', then each group's unnamed member's.

        `starter_probs`: (N, starter outputs); `groups`: (N, len(GROUPS)) router probabilities;
        `expert_probs`: group → (N, expert outputs) with NaN rows for the photos the expert did not see.
        """
        n = len(starter_probs)
        merged = np.zeros((n, len(self.tree_taxa)), dtype=np.float64)
        p0 = np.asarray(starter_probs, dtype=np.float64)[:, self.starter_outputs]   # (N, starter classes)
        for g, group in enumerate(GROUPS):
            if group == "not_organism":
                continue  # its mass stays outside the classes: it is what makes a photo out of scope
            w = np.asarray(groups[:, g], dtype=np.float64)
            left = w.copy()   # what the expert does not take: the starter's classes (x alpha) and the group's own
            if group in expert_probs:
                pe = np.asarray(expert_probs[group], dtype=np.float64)
                ran = ~np.isnan(pe).any(axis=1)
                bundle = self.experts[group]
                q = pe[ran][:, bundle.output_index]
                q = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-12)       # P_E(s | not background)
                known = self.gate(group, q)                                    # P(a species E knows)
                rows = np.flatnonzero(ran)
                np.add.at(merged, (rows[:, None], self.expert_map[group][None, :]), (w[ran] * known)[:, None] * q)
                taken = known
                if group in self.expert_genus:                                  # P(a genus E knows) ≥ P(a species)
                    matrix, members = self.expert_genus[group]
                    qg = q @ matrix
                    taken = np.maximum(known, known_species_gate(qg.max(axis=1), *self.genus_gates[group]))
                    np.add.at(merged, (rows[:, None], members[None, :]), (w[ran] * (taken - known))[:, None] * qg)
                left[ran] = w[ran] * (1.0 - taken)
            cls = np.flatnonzero(self.starter_group == g)
            within = p0[:, cls]
            total = within.sum(axis=1, keepdims=True)
            share = np.divide(within, total, out=np.zeros_like(within), where=total > 0)   # P_starter(c | group)
            if group in self.starter_gated and len(cls):
                trust = self.starter_trust(group, cls, share, within)
                kept = (left * trust)[:, None] * share
            else:
                kept = left[:, None] * self.alpha[group] * share
            rows = np.arange(n)
            if len(cls):
                np.add.at(merged, (rows[:, None], self.starter_map[cls][None, :]), kept)
                np.add.at(merged, (rows[:, None], self.unnamed_of_class[cls][None, :]), left[:, None] * share - kept)
            nothing = total[:, 0] <= 0   # the starter gives the group no class: all of it to the group's member
            merged[nothing, self.unnamed_of_group[group]] += left[nothing]
        return merged

    def starter_trust(self, group: str, cls: np.ndarray, share: np.ndarray, within: np.ndarray) -> np.ndarray:
        """(N,) the starter gate of `group` for each photo, from its first taxon of the group (`first_taxon`)."""
        inputs = first_taxon(share, within, self.starter_taxon[cls], self.coverage[cls])
        return starter_class_gate(inputs[0], inputs[1], self.starter_gate_of.get(group, self.starter_gate), inputs[2])

    def gate(self, group: str, q: np.ndarray) -> np.ndarray:
        """P(the photo shows a species group's expert knows), from its top probability (scripts/fit_expert_gates.py);
        1 for an expert without a fitted gate."""
        if group not in self.gates:
            return np.ones(len(q))
        return known_species_gate(q.max(axis=1), *self.gates[group])

    def source(self, j: int, ran: dict[str, bool]) -> str:
        """Which model produced merged entry `j` for a photo on which `ran[group]` says which experts ran."""
        for group, entries in self.expert_entries.items():
            if j in entries and ran.get(group):
                return self.experts[group].name
        return self.starter.name if j in self.starter_entries else self.owner[j]


class NaturalistRunner:
    """Runs the parts of an Ensemble on a batch and merges their answers into one record per photo."""

    def __init__(self, ensemble: Ensemble, *, exact: bool, backend: str, threads: int | None, device: str,
                 precision: str = "auto"):
        self.name = ensemble.name
        self.guide = GroupModel(exact=exact, backend=backend, threads=threads, precision=precision)
        self.engine = self.guide.engine
        self.experts = {g: Engine(b, exact=exact, backend=backend, threads=threads, device=device, precision=precision)
                        for g, b in ensemble.experts.items()}
        self.mixture = ensemble.mixture()
        self.tree = TaxonTree(self.mixture.tree_taxa)
        self.classes = self.mixture.taxa
        self.scope_threshold = ensemble.starter.in_scope_threshold
        drafts = [e.draft for e in (self.engine, *self.experts.values())]
        self.draft = None if None in drafts else max(drafts)

    @property
    def engines(self) -> list[Engine]:
        return [self.engine, *self.experts.values()]

    def prepare(self, im):
        return self.engine.inputs([im])[0], im   # the photo is kept for the experts the router will choose

    def identify(self, items: list, labels: list[str], k: int) -> list[Identification]:
        starter_probs, groups = self.guide.run(np.stack([x for x, _ in items]))
        expert_probs, ran = {}, {}
        for group, engine in self.experts.items():
            rows = np.flatnonzero(groups[:, GROUPS.index(group)] >= EXPERT_MIN)
            probs = np.full((len(items), engine.bundle.num_outputs), np.nan)
            if len(rows):
                probs[rows] = engine.probabilities(engine.inputs([items[i][1] for i in rows]))
            expert_probs[group], ran[group] = probs, set(rows.tolist())
        merged = self.mixture.combine(starter_probs, groups, expert_probs)
        out = []
        for i, label in enumerate(labels):
            used = {g: i in rows for g, rows in ran.items()}
            r = identify(self.tree, merged[i], label, self.name, k, scope_threshold=self.scope_threshold,
                         ranked=len(self.classes),
                         source=lambda j, used=used: self.mixture.source(j, used))
            r.groups = dict(zip(GROUPS, map(float, groups[i])))
            out.append(r)
        return out
