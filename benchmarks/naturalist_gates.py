"""What naturalist names, and how often wrongly, as its gates are trusted more or less: held-out, every collection.

    python benchmarks/naturalist_gates.py          # needs ../shared/data and the installed experts (~5 min)

naturalist's claims rest on gates fitted by scripts/fit_expert_gates.py: one per expert (P(the photo shows a
species it knows)) and one per group on the starter's own classes (P(the photo falls under the starter's first
taxon)). Two figures pull on them in opposite directions: wrong "pretty sure" claims (≤ 3 % wanted on every
collection) and useful claims (a right genus or species; issue targets: ImageNet organisms ≥ 60 %, primates
≥ 25 %, plants47 ≥ 50 %, birds525 ≥ 30 %). This runs naturalist's parts once over every collection, then merges
the same predictions with each photo's gates fitted WITHOUT its species (the cross-fitted gates, as
`open_world.py`'s "naturalist (held-out)" rows) and their intercepts moved: a step of +1 multiplies a gate's
odds by e; "full" trusts the starter's first taxon outright (the starter's own word, inside the router's group).
Step 0 everywhere is what ships. Writes results/naturalist_gates.json and prints the table.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

RESULTS = REPO / "benchmarks" / "results" / "naturalist_gates.json"
FULL = float("inf")
# (label, starter gate steps by group ("all": every group), expert gate step)
SETTINGS = (("as shipped (fitted)", {}, 0.0),
            ("starter, other organisms +1", {"other_organism": 1.0}, 0.0),
            ("starter, other organisms +2", {"other_organism": 2.0}, 0.0),
            ("starter, every group +1", {"all": 1.0}, 0.0),
            ("starter trusted fully", {"all": FULL}, 0.0),
            ("experts +0.5", {}, 0.5),
            ("experts -0.5", {}, -0.5))


def main() -> int:
    import open_world as ow
    from naturalist_parts import keep_parts, open_naturalist

    from inat.training.evaluate import known_species, open_world
    t0 = time.perf_counter()
    predictor = open_naturalist(ow.SHARED)
    if predictor is None:
        return 2
    known = known_species(predictor.classes)
    data = ow.collections(ow.SHARED, None)
    kept = {}
    for name, (truths, classes) in data.items():
        paths = [str(t.path) for t in truths]
        kept[name] = (keep_parts(predictor, paths), truths, classes, paths)
        print(f"{name}: {len(paths)} photos", file=sys.stderr, flush=True)
    rows = []
    for label, starter_steps, expert_step in SETTINGS:
        row = {"setting": label, "starter_steps": {g: ("full" if v == FULL else v) for g, v in starter_steps.items()},
               "expert_step": expert_step, "collections": {}}
        for name, (parts, truths, classes, paths) in kept.items():
            held = ow.held_out_records(predictor, parts, truths, paths, starter_steps, expert_step)
            ok = [truths[i] for i in parts.ok]
            w = open_world(held, ok, known)
            figures = {"wrong_claims": round(w["wrong_claims"], 4), "useful": round(w["useful"], 4)}
            if classes is not None:
                img = ow.imagenet_figures(held, ok, [classes[i] for i in parts.ok], known)
                figures["organism_useful"] = round(img["organism_useful"], 4)
            row["collections"][name] = figures
        rows.append(row)
        print(line(row), flush=True)
    print("\n" + table(rows))
    write_results(RESULTS, {"date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - t0),
                            "experts": sorted(b.name for b in predictor.bundle.experts.values()), "rows": rows})
    return 0


def line(row: dict) -> str:
    return row["setting"] + ": " + ", ".join(f"{k} {100 * v['wrong_claims']:.1f}/{100 * v['useful']:.1f}"
                                             for k, v in row["collections"].items())


def table(rows: list[dict]) -> str:
    names = list(rows[0]["collections"])
    head = "| setting (held-out) | " + " | ".join(f"{n} wrong / useful" for n in names) + " |"
    out = [head, "|---|" + "---:|" * len(names)]
    for r in rows:
        cells = []
        for n in names:
            c = r["collections"][n]
            extra = f" ({100 * c['organism_useful']:.1f} of organisms)" if "organism_useful" in c else ""
            cells.append(f"{100 * c['wrong_claims']:.1f} / {100 * c['useful']:.1f} %{extra}")
        out.append(f"| {r['setting']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
