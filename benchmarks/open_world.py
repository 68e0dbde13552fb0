"""Does each model name what it knows, and stay honest about what it does not? Real photos of every kind.

    python benchmarks/open_world.py                       # starter, naturalist, every installed expert
    python benchmarks/open_world.py --models naturalist --limit 100

Runs each model over the collections of ../shared/data (inat21-plants47 val, flowers102, birds525,
butterflies100, imagenet-samples) and reports, per model and collection (`inat.training.evaluate.open_world`):
kingdom_ok, claims, wrong_claims, group_acc (the router), known-species n/top-1/top-5/ECE. On
imagenet-samples also the organism top-1 (a class counts as right when it is the photo's ImageNet class
or the same species) and the in-scope recall (organism photos in scope) and rejection (other photos out
of scope). The shipped router was fitted on all of flowers102, birds525, butterflies100 and
imagenet-samples and never on plants47 val: naturalist's rows on the first four are measured on photos
the router saw (its cross-fitted accuracies, whole species held out, are in assets/router.json).
Writes results/open_world.json and the table between the open_world markers of benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from results_file import write_results  # noqa: E402  (benchmarks/ is on the path when run)

SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "open_world.json"
README = REPO / "benchmarks" / "README.md"
MARKERS = ("<!-- open_world:start -->", "<!-- open_world:end -->")
NAMES = {"butterflies100": "assets/experts/butterflies100-inat2017-insects.tsv",
         "birds525": "assets/experts/birds525-inat2017-birds.tsv"}


def held_out(name: str, truths: list) -> list:
    """The photos of `name` the router did not see when it was fitted (all of them when it saw none)."""
    try:
        spec = json.loads((REPO / "assets" / "router.json").read_text(encoding="utf-8")).get("held_out", {})
    except (OSError, ValueError):
        return truths
    keep = spec.get(name) if isinstance(spec, dict) else None
    if keep is None:
        return truths
    keep = set(keep)
    return [t for t in truths if str(Path(t.path).relative_to(SHARED / name_folder(name))) in keep]


HELD_OUT = "naturalist (held-out)"


def naturalist_both_ways(predictor, truths, paths):
    """(indices of the photos read, naturalist's records as shipped, its records with every gate fitted without the
    photo's species, or None when the gate file has no cross-fitted gates), from one run of the parts."""
    from naturalist_parts import keep_parts, records
    parts = keep_parts(predictor, paths)
    shipped = records(predictor, parts, paths)
    return parts.ok, shipped, held_out_records(predictor, parts, truths, paths)


def held_out_records(predictor, parts, truths, paths, starter_steps: dict | None = None, expert_step: float = 0.0):
    """naturalist's records of `parts.ok`, each photo merged with the gates fitted without its species' fold
    (`cross_fitted` in assets/expert_gates.json, `inat.training.evaluate.species_fold`); None when there are none.
    `starter_steps` (group → step; "all": every group) and `expert_step` move the gates' intercepts (a step of 1
    multiplies a gate's odds by e; float("inf"): trust fully), for the trade-off benchmarks."""
    from naturalist_parts import records

    from inat.training.evaluate import species_fold
    spec = json.loads((REPO / "assets" / "expert_gates.json").read_text(encoding="utf-8"))
    mixture = predictor.runner.mixture
    crossed = {g: spec["gates"][b.name]["cross_fitted"] for g, b in mixture.experts.items()
               if "cross_fitted" in spec["gates"].get(b.name, {})}
    genus_crossed = {g: spec["gates"][b.name]["genus"]["cross_fitted"] for g, b in mixture.experts.items()
                     if g in mixture.genus_gates and "genus" in spec["gates"].get(b.name, {})}
    starter_crossed = spec.get("starter", {}).get("cross_fitted")
    if not crossed and not starter_crossed:
        return None
    steps = starter_steps or {}

    def moved(w, step):
        return (w[0] + step, *w[1:]) if step != float("inf") else (1e6, *[0.0] * (len(w) - 1))
    saved = dict(mixture.gates), mixture.starter_gate, dict(mixture.starter_gate_of), dict(mixture.genus_gates)
    folds = [species_fold(truths[i], spec.get("folds", 2)) for i in parts.ok]
    held = [None] * len(parts.ok)
    try:
        for f in sorted(set(folds)):
            mixture.gates.update({g: (c[str(f)][0] + expert_step, c[str(f)][1]) for g, c in crossed.items()})
            mixture.genus_gates.update({g: (c[str(f)][0] + expert_step, c[str(f)][1]) for g, c in genus_crossed.items()})
            if starter_crossed:
                mixture.starter_gate = tuple(starter_crossed[str(f)]["weights"])
                mixture.starter_gate_of = {g: moved(w, steps.get(g, steps.get("all", 0.0)))
                                           for g, w in starter_crossed[str(f)]["by_group"].items()}
            for row, r in enumerate(records(predictor, parts, paths)):
                if folds[row] == f:
                    held[row] = r
    finally:
        mixture.gates.clear()
        mixture.gates.update(saved[0])
        mixture.starter_gate, mixture.starter_gate_of = saved[1], saved[2]
        mixture.genus_gates.clear()
        mixture.genus_gates.update(saved[3])
    return held


def name_folder(name: str) -> str:
    return "inat21-plants47" if name == "plants47" else name


def collections(data: Path, limit: int | None):
    from inat.training.labelled import read_imagenet_samples, read_inat_split, read_labels_csv, read_names
    out = {"plants47": (read_inat_split(data / "inat21-plants47", "val"), None)}
    for name in ("flowers102", "birds525", "butterflies100"):
        names = read_names(REPO / NAMES[name]) if name in NAMES else None
        out[name] = (held_out(name, read_labels_csv(data / name, names)), None)
    if (data / "others").is_dir():   # wild primates and mushrooms, judged apart
        others = read_labels_csv(data / "others")
        out["primates"] = ([t for t in others if t.lineage.get("order") == "Primates"], None)
        out["mushrooms"] = ([t for t in others if t.lineage.get("kingdom") == "Fungi"], None)
    truths, classes = read_imagenet_samples(data / "imagenet-samples")
    out["imagenet-samples"] = (truths, classes)
    if limit:
        out = {k: (v[0][::max(1, len(v[0]) // limit)][:limit], v[1] and v[1][::max(1, len(v[0]) // limit)][:limit])
               for k, v in out.items()}
    return out


def imagenet_figures(records, truths, classes, known: dict | None = None) -> dict:
    """Organism top-1, in-scope recall and rejection. The top-1 is right when it is the photo's ImageNet class,
    the same species, or inside the class's taxon when the class is above species (ImageNet's "leafhopper" is
    family Cicadellidae: an expert's leafhopper species is right)."""
    from inat.training.evaluate import species_names
    organisms = [(r, t, c) for r, t, c in zip(records, truths, classes) if c is not None and not r.error]
    others = [r for r, c in zip(records, classes) if c is None and not r.error]
    right = 0
    for r, t, c in organisms:
        top = r.top.taxon
        lineage = dict(top.lineage())
        right += (top.scientific_name == c.scientific_name and top.common_name == c.common_name) or \
            (c.rank == "species" and c.scientific_name in species_names(top)) or \
            (c.rank in ("genus", "family", "order", "class") and lineage.get(c.rank) == c.scientific_name)
    from inat.training.evaluate import USEFUL_RANKS, claim_wrong
    known = known or {}
    useful = sum(1 for r, t, _ in organisms if r.ancestor and r.ancestor["rank"] in USEFUL_RANKS and
                 claim_wrong(r.ancestor, t, known) is False)
    return {"organism_top1": right / len(organisms) if organisms else None,
            "organism_useful": useful / len(organisms) if organisms else None,
            "in_scope_recall": sum(r.in_scope is True for r, _, _ in organisms) / len(organisms) if organisms else None,
            "rejection": sum(r.in_scope is False for r in others) / len(others) if others else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=None, help="default: starter, naturalist, every installed expert")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=None, help="at most N photos a collection (spread evenly)")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite the table in benchmarks/README.md")
    ap.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS}); "
                    "naturalist's figures also go to assets/naturalist_metrics.json under the experts installed")
    args = ap.parse_args(argv)
    from inat.identify.predict import Predictor
    from inat.models.registry import list_bundles
    from inat.training.evaluate import known_species, open_world
    if not (args.data / "birds525").is_dir():
        print(f"{args.data}: the real photos of ../shared/data are needed", file=sys.stderr)
        return 2
    models = args.models or ["starter", "naturalist"] + [b.path.name for b in list_bundles() if b.expert or b.scope]
    data = collections(args.data, args.limit)
    results = []
    for model in models:
        predictor = Predictor(model)
        known = known_species(predictor.classes)
        held = []
        for name, (truths, classes) in data.items():
            t0 = time.perf_counter()
            paths = [str(t.path) for t in truths]
            if predictor.name == "naturalist":   # the parts once: the shipped merge, and the held-out one
                ok, records, held_records = naturalist_both_ways(predictor, truths, paths)
                truths, classes = [truths[i] for i in ok], classes and [classes[i] for i in ok]
            else:
                records, held_records = predictor.predict(paths, k=5, batch_size=32), None
            for label, recs, out in ((predictor.name, records, results), (HELD_OUT, held_records, held)):
                if recs is None:
                    continue
                r = {"model": label, **open_world(recs, truths, known)}
                r.pop("reliability", None)
                if classes is not None:
                    r.update(imagenet_figures(recs, truths, classes, known))
                r.update(collection=name, seconds=round(time.perf_counter() - t0, 1))
                if predictor.name == "naturalist":   # the set-up these figures hold for
                    r["experts"] = sorted(b.name for b in predictor.bundle.experts.values())
                out.append(r)
                print(row(r), flush=True)
        results += held
    if args.models and not args.limit:  # a partial rerun keeps the other models' rows of the last full run
        rerun = {r["model"] for r in results}
        try:
            old = json.loads(args.json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if not old.get("limit"):
            kept = [r for r in old.get("results", []) if r["model"] not in rerun]
            results = [r for m in dict.fromkeys([r["model"] for r in kept + results])
                       for r in kept + results if r["model"] == m]
    write_results(args.json, {"date": time.strftime("%Y-%m-%d"), "limit": args.limit, "results": results})
    if not args.limit and any(r["model"] == "naturalist" for r in results):
        write_naturalist_metrics([r for r in results if r["model"] == "naturalist"],
                                 [r for r in results if r["model"] == HELD_OUT])
    table = "\n".join([HEADER, *(row(r) for r in results)])
    if not args.no_readme and not args.limit:
        text = README.read_text(encoding="utf-8")
        a, b = text.find(MARKERS[0]), text.find(MARKERS[1])
        if a >= 0 and b > a:
            README.write_text(text[:a + len(MARKERS[0])] + "\n" + table + "\n" + text[b:], encoding="utf-8")
    return 0


def write_naturalist_metrics(rows: list[dict], held: list[dict] | None = None) -> None:
    """assets/naturalist_metrics.json: what the picker, About and `models` show for naturalist, recorded for the
    set-up measured (the experts installed now; other set-ups' entries are kept), with the held-out figures (gates
    fitted without the photo's species) under "open_world_held_out". inat.naturalist.assemble.naturalist reads the entry of the user's
    own set-up through inat.naturalist.setup_metrics."""
    from inat.naturalist.assemble import naturalist
    from inat.naturalist.setup_metrics import with_setup
    experts = [b.name for b in naturalist().experts.values()]
    keys = ("n", "kingdom_ok", "claims", "wrong_claims", "useful", "group_acc", "n_known", "top1", "top5")
    birds = next((r for r in rows if r["collection"] == "birds525"), None)
    figures = {"date": time.strftime("%Y-%m-%d"),
               "open_world": {r["collection"]: {k: r.get(k) for k in keys} for r in rows}}
    if held:
        figures["open_world_held_out"] = {r["collection"]: {k: r.get(k) for k in keys} for r in held}
    if birds and birds.get("top1") is not None:
        figures.update(top1=birds["top1"], top5=birds["top5"],
                       data=f"birds525, {birds['n_known']} photos of species the bird expert knows")
    path = REPO / "assets" / "naturalist_metrics.json"
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    path.write_text(json.dumps(with_setup(old, experts, figures), indent=1) + "\n", encoding="utf-8")


HEADER = ("| model | photos | n | kingdom_ok | claims | wrong_claims | useful | group_acc | known | top-1 | top-5 | ECE | "
          "ImageNet organism top-1 / useful / recall / rejection |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def row(r: dict) -> str:
    def pct(x):
        return "—" if x is None else f"{100 * x:.1f} %"
    extra = " / ".join(pct(r.get(k)) for k in ("organism_top1", "organism_useful", "in_scope_recall", "rejection")) \
        if "rejection" in r else ""
    return (f"| {r['model']} | {r['collection']} | {r['n']} | {pct(r['kingdom_ok'])} | {pct(r['claims'])} | "
            f"{pct(r['wrong_claims'])} | {pct(r.get('useful'))} | {pct(r['group_acc'])} | {r['n_known']} | {pct(r['top1'])} | {pct(r['top5'])} | "
            f"{'—' if r['ece'] is None else round(r['ece'], 3)} | {extra} |")


if __name__ == "__main__":
    sys.exit(main())
