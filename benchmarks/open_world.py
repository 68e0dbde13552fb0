"""Does each model name what it knows, and stay honest about what it does not? Real photos of every kind.

    python benchmarks/open_world.py                       # starter, naturalist, every installed expert
    python benchmarks/open_world.py --models naturalist --limit 100

Runs each model over the collections of ../shared/data (inat21-plants47 val, flowers102, birds525,
butterflies100, imagenet-samples) and reports, per model and collection (`inat.evaluate.open_world`):
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
import csv
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "open_world.json"
README = REPO / "benchmarks" / "README.md"
MARKERS = ("<!-- open_world:start -->", "<!-- open_world:end -->")
NAMES = {"butterflies100": "assets/experts/butterflies100-inat2017-insects.tsv",
         "birds525": "assets/experts/birds525-inat2017-birds.tsv"}


def imagenet_truths(folder: Path):
    """imagenet-samples as LabelledPhotos: the starter's taxonomy for organism classes, else no organism."""
    from inat.labelled import LabelledPhoto
    from inat.starter import starter_classes
    taxa = {t.class_id: t for t in starter_classes()}
    out, classes = [], []
    with open(folder / "labels.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            t = taxa.get(int(r["index"]))
            classes.append(t)
            if t is None:
                out.append(LabelledPhoto(folder / r["file"], organism=False))
            else:
                lineage = dict(t.lineage())
                out.append(LabelledPhoto(folder / r["file"], t.scientific_name, t.common_name, lineage))
    return out, classes


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


def name_folder(name: str) -> str:
    return "inat21-plants47" if name == "plants47" else name


def collections(data: Path, limit: int | None):
    from inat.labelled import read_inat_split, read_labels_csv, read_names
    out = {"plants47": (read_inat_split(data / "inat21-plants47", "val"), None)}
    for name in ("flowers102", "birds525", "butterflies100"):
        names = read_names(REPO / NAMES[name]) if name in NAMES else None
        out[name] = (held_out(name, read_labels_csv(data / name, names)), None)
    truths, classes = imagenet_truths(data / "imagenet-samples")
    out["imagenet-samples"] = (truths, classes)
    if limit:
        out = {k: (v[0][::max(1, len(v[0]) // limit)][:limit], v[1] and v[1][::max(1, len(v[0]) // limit)][:limit])
               for k, v in out.items()}
    return out


def imagenet_figures(records, truths, classes) -> dict:
    """Organism top-1, in-scope recall and rejection. The top-1 is right when it is the photo's ImageNet class,
    the same species, or inside the class's taxon when the class is above species (ImageNet's "leafhopper" is
    family Cicadellidae: an expert's leafhopper species is right)."""
    from inat.evaluate import species_names
    organisms = [(r, t, c) for r, t, c in zip(records, truths, classes) if c is not None and not r.error]
    others = [r for r, c in zip(records, classes) if c is None and not r.error]
    right = 0
    for r, t, c in organisms:
        top = r.top.taxon
        lineage = dict(top.lineage())
        right += (top.scientific_name == c.scientific_name and top.common_name == c.common_name) or \
            (c.rank == "species" and c.scientific_name in species_names(top)) or \
            (c.rank in ("genus", "family", "order", "class") and lineage.get(c.rank) == c.scientific_name)
    return {"organism_top1": right / len(organisms) if organisms else None,
            "in_scope_recall": sum(r.in_scope is True for r, _, _ in organisms) / len(organisms) if organisms else None,
            "rejection": sum(r.in_scope is False for r in others) / len(others) if others else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=None, help="default: starter, naturalist, every installed expert")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=None, help="at most N photos a collection (spread evenly)")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite the table in benchmarks/README.md")
    args = ap.parse_args(argv)
    from inat.evaluate import known_species, open_world
    from inat.hub import list_bundles
    from inat.predict import Predictor
    if not (args.data / "birds525").is_dir():
        print(f"{args.data}: the real photos of ../shared/data are needed", file=sys.stderr)
        return 2
    models = args.models or ["starter", "naturalist"] + [b.path.name for b in list_bundles() if b.expert]
    data = collections(args.data, args.limit)
    results = []
    for model in models:
        predictor = Predictor(model)
        known = known_species(predictor.classes)
        for name, (truths, classes) in data.items():
            t0 = time.perf_counter()
            records = predictor.predict([str(t.path) for t in truths], k=5, batch_size=32)
            r = {"model": predictor.name, **open_world(records, truths, known)}
            r.pop("reliability", None)
            if classes is not None:
                r.update(imagenet_figures(records, truths, classes))
            r.update(collection=name, seconds=round(time.perf_counter() - t0, 1))
            results.append(r)
            print(row(r), flush=True)
    if args.models and not args.limit:  # a partial rerun keeps the other models' rows of the last full run
        rerun = {r["model"] for r in results}
        try:
            old = json.loads(RESULTS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if not old.get("limit"):
            kept = [r for r in old.get("results", []) if r["model"] not in rerun]
            results = [r for m in dict.fromkeys([r["model"] for r in kept + results])
                       for r in kept + results if r["model"] == m]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "limit": args.limit, "results": results},
                                  indent=1) + "\n", encoding="utf-8")
    if not args.limit and any(r["model"] == "naturalist" for r in results):
        write_naturalist_metrics([r for r in results if r["model"] == "naturalist"])
    table = "\n".join([HEADER, *(row(r) for r in results)])
    if not args.no_readme and not args.limit:
        text = README.read_text(encoding="utf-8")
        a, b = text.find(MARKERS[0]), text.find(MARKERS[1])
        if a >= 0 and b > a:
            README.write_text(text[:a + len(MARKERS[0])] + "\n" + table + "\n" + text[b:], encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


def write_naturalist_metrics(rows: list[dict]) -> None:
    """assets/naturalist_metrics.json: what the picker, About and `models` show for naturalist, recorded for the
    set-up measured (the experts installed now; other set-ups' entries are kept). hub.naturalist reads the entry
    of the user's own set-up through inat.setup_metrics."""
    from inat.hub import naturalist
    from inat.setup_metrics import with_setup
    experts = [b.name for b in naturalist().experts.values()]
    birds = next((r for r in rows if r["collection"] == "birds525"), None)
    figures = {"date": time.strftime("%Y-%m-%d"),
               "open_world": {r["collection"]: {k: r[k] for k in ("n", "kingdom_ok", "claims", "wrong_claims",
                                                                  "group_acc", "n_known", "top1", "top5")}
                              for r in rows}}
    if birds and birds.get("top1") is not None:
        figures.update(top1=birds["top1"], top5=birds["top5"],
                       data=f"birds525, {birds['n_known']} photos of species the bird expert knows")
    path = REPO / "assets" / "naturalist_metrics.json"
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    path.write_text(json.dumps(with_setup(old, experts, figures), indent=1) + "\n", encoding="utf-8")


HEADER = ("| model | photos | n | kingdom_ok | claims | wrong_claims | group_acc | known | top-1 | top-5 | ECE | "
          "ImageNet organism top-1 / recall / rejection |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def row(r: dict) -> str:
    def pct(x):
        return "—" if x is None else f"{100 * x:.1f} %"
    extra = " / ".join(pct(r.get(k)) for k in ("organism_top1", "in_scope_recall", "rejection")) \
        if "rejection" in r else ""
    return (f"| {r['model']} | {r['collection']} | {r['n']} | {pct(r['kingdom_ok'])} | {pct(r['claims'])} | "
            f"{pct(r['wrong_claims'])} | {pct(r['group_acc'])} | {r['n_known']} | {pct(r['top1'])} | {pct(r['top5'])} | "
            f"{'—' if r['ece'] is None else round(r['ece'], 3)} | {extra} |")


if __name__ == "__main__":
    sys.exit(main())
