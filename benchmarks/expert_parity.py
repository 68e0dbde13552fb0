"""The iNat 2017 experts: converted bundle vs the TFLite interpreter, accuracy, scope, resize policy.

    python benchmarks/expert_parity.py [--source ../shared/models/coral-inat2017] [--limit N] [--write]

For each expert the bundle is made exactly as users get it (`inat.naturalist.download.install --from SOURCE`,
into a temporary folder), then on every real photo of its data set:
  * parity: the TFLite file (LiteRT interpreter, uint8) and the bundle (PyTorch, fp16 weights widened to
    fp32) see the same pixels, the bundle's own preprocessing (resize/crop to 224, then each model's input
    scaling). Top-1 and top-5 agreement; the TFLite ranking is read from its uint8 logits (the fully
    connected layer's output; the softmax output is rounded to 1/256 and ties often). Ties in those uint8
    logits are ambiguous rankings, so "tie-aware" counts the bundle's answer as agreeing when it is one
    of the rankings the TFLite scores allow; strict figures (lowest index first) are reported too;
  * a layer-by-layer check on one photo: every convolution of the bundle, fed the TFLite graph's own
    (dequantized) input, must reproduce its uint8 output up to one rounding step;
  * known-species top-1/top-5 (photos whose species the expert has, matched by scientific name for
    birds525; by common name for butterflies100, whose labels have no scientific names);
  * scope: the summed species probability (1 − background) on photos of the expert's group and on
    photos of other things, at a sweep of thresholds;
  * resize policy: known-species accuracy of the bundle under each resize policy.
`--write` stores the figures in benchmarks/results/expert_parity.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

SHARED = REPO.parent / "shared"
SOURCE = SHARED / "models" / "coral-inat2017"
DATA = SHARED / "data"
# Which photos each expert is compared on, and the data sets it must reject (out of its scope).
SETS = {"inat2017-birds": ("birds525", ("butterflies100", "flowers102")),
        "inat2017-insects": ("butterflies100", ("birds525", "flowers102"))}
RESIZE_POLICIES = {"shorter, crop 1.0": {"resize": "shorter", "crop_pct": 1.0},
                   "shorter, crop 0.875": {"resize": "shorter", "crop_pct": 0.875},
                   "squash": {"resize": "squash"}}
SCOPE_SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99)


# -- the two models -------------------------------------------------------------------------------------
class TFLiteModel:
    """The LiteRT interpreter on one .tflite file: uint8 HWC photo → (uint8 logits, uint8 probabilities)."""

    def __init__(self, path: Path):
        from ai_edge_litert.interpreter import Interpreter

        from inat.models.tflite_reader import read_tflite
        graph = read_tflite(path)
        fc = next(op for op in graph.ops if op.kind == "FULLY_CONNECTED")
        # preserve_all_tensors keeps the logits readable after the softmax has run.
        self.it = Interpreter(model_path=str(path), num_threads=1, experimental_preserve_all_tensors=True)
        self.it.allocate_tensors()
        self.input = self.it.get_input_details()[0]["index"]
        self.output = self.it.get_output_details()[0]["index"]
        self.logits = fc.outputs[0]

    def __call__(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.it.set_tensor(self.input, pixels[None])
        self.it.invoke()
        return (self.it.get_tensor(self.logits)[0].astype(np.int32),
                self.it.get_tensor(self.output)[0].astype(np.int32))


class BundleModel:
    """A bundle in PyTorch with its own preprocessing: PIL photo → (uint8 224×224 pixels, float logits)."""

    def __init__(self, bundle, preprocess=None):
        import torch

        from inat.core.preprocess import eval_transform
        self.torch = torch
        self.model = bundle.load_model()
        steps = eval_transform(preprocess or bundle.preprocess).transforms
        # The resize/crop steps give the pixels both models see; ToTensor + Normalize the bundle's input.
        self.geometry, self.scaling = steps[:-2], steps[-2:]

    def pixels(self, im) -> np.ndarray:
        for step in self.geometry:
            im = step(im)
        return np.asarray(im, dtype=np.uint8)

    def run(self, rows: list[dict], batch: int = 32):
        """Yield (row, pixels, logits) for labelled photo rows, the network run in batches."""
        from inat.core.images import open_image
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            pixels = [self.pixels(open_image(r["path"])) for r in chunk]
            yield from zip(chunk, pixels, self.logits_batch(pixels))

    def logits_batch(self, pixels: list[np.ndarray]) -> np.ndarray:
        """(N, outputs) float logits for a list of uint8 224×224 photos."""
        from PIL import Image
        xs = []
        for px in pixels:
            x = Image.fromarray(px)
            for step in self.scaling:
                x = step(x)
            xs.append(x)
        with self.torch.inference_mode():
            return self.model(self.torch.stack(xs)).float().numpy()

    def logits(self, pixels: np.ndarray) -> np.ndarray:
        from PIL import Image
        x = Image.fromarray(pixels)
        for step in self.scaling:
            x = step(x)
        with self.torch.inference_mode():
            return self.model(x[None]).float()[0].numpy()


# -- agreement between two rankings ---------------------------------------------------------------------
def agreement(reference: np.ndarray, scores: np.ndarray, k: int) -> dict:
    """How `scores`' top-k matches `reference`'s, where `reference` is quantized (integer steps) and may tie.

    Returns booleans "strict" (top-k sets equal, ties broken by lowest index), "tie_aware" (a top-k the
    reference's ties allow: every class strictly above the reference's k-th score is in the top-k, and
    every top-k class reaches it), "within_step" (the same, one quantization step looser both ways),
    and "overlap" (classes shared by the strict sets).
    """
    mine = np.argsort(-scores, kind="stable")[:k]
    ref = np.argsort(-reference, kind="stable")[:k]
    kth = reference[ref[-1]]
    chosen = set(mine.tolist())

    def allowed(slack: int) -> bool:
        return set(np.flatnonzero(reference > kth + slack).tolist()) <= chosen and \
            bool((reference[mine] >= kth - slack).all())
    return {"strict": chosen == set(ref.tolist()), "tie_aware": allowed(0), "within_step": allowed(1),
            "overlap": len(chosen & set(ref.tolist()))}


def nudge(pixels: np.ndarray, rng) -> np.ndarray:
    """The photo with every value moved by −1, 0 or +1 grey level: invisible, for the TFLite noise floor."""
    return np.clip(pixels.astype(np.int16) + rng.integers(-1, 2, pixels.shape), 0, 255).astype(np.uint8)


def layer_check(tflite_path: Path, bundle_model, pixels: np.ndarray) -> dict:
    """Feed each of the bundle's convolutions the TFLite graph's own input; compare outputs in uint8 steps.

    Returns {"layers", "max_steps", "fraction_off"}: the largest difference in quantization steps of any
    output value, and the fraction of values that differ at all (rounding boundaries).
    """
    import torch
    from ai_edge_litert.interpreter import Interpreter

    from inat.models.tflite_reader import read_tflite
    graph = read_tflite(tflite_path)
    it = Interpreter(model_path=str(tflite_path), num_threads=1, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], pixels[None])
    it.invoke()
    convs = [op for op in graph.ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    model = bundle_model.model
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    worst, off, total = 0, 0, 0
    for op, conv, bn in zip(convs, layers, norms):
        t_in, t_out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        x = ((it.get_tensor(op.inputs[0]).astype(np.float32) - t_in.zero_point[0]) * t_in.scale[0]).astype(np.float32)
        with torch.inference_mode():
            y = bn(conv(torch.from_numpy(x).permute(0, 3, 1, 2))).permute(0, 2, 3, 1).numpy()
        q = np.clip(np.round(y / t_out.scale[0]) + t_out.zero_point[0], 0, 255)
        d = np.abs(q - it.get_tensor(op.outputs[0]).astype(np.float32))
        worst, off, total = max(worst, int(d.max())), off + int((d > 0).sum()), total + d.size
    return {"layers": len(convs), "max_steps": worst, "fraction_off": off / total}


# -- data -----------------------------------------------------------------------------------------------
def labelled_photos(folder: Path) -> list[dict]:
    """The rows of a labels.csv folder (file, common_name, scientific_name, ...), sorted by file."""
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    for r in rows:
        r["path"] = folder / r["file"]
    return rows


def known_maps(bundle, data: str) -> dict:
    """{method: photo row → class index or None}: how a labelled photo's species is found among the expert's.

    "scientific_name": the photo's scientific name equals a class's (birds525; butterflies100 has none);
    "match_file": assets/experts/DATA-EXPERT.tsv, the taxonomy builder's table of which folders the
    expert knows (by scientific name, iNat synonyms, common names, and by hand; see its README).
    """
    by_sci = {t.scientific_name: i for i, t in enumerate(bundle.classes)}
    maps = {"scientific_name": lambda r: by_sci.get((r.get("scientific_name") or "").strip())}
    table = REPO / "assets" / "experts" / f"{data}-{bundle.name}.tsv"
    if table.is_file():
        with open(table, newline="", encoding="utf-8") as f:
            match = {r["common_name"]: r["scientific_name"] for r in csv.DictReader(f, delimiter="\t")}
        maps["match_file"] = lambda r: by_sci.get(match.get(r["common_name"], ""))
    return maps


def subset(rows: list, every: int) -> list:
    """Every `every`-th row: a fixed, spread-out sample (the test uses every 7th photo)."""
    return rows[::every]


# -- one expert -----------------------------------------------------------------------------------------
def compare(bundle, tflite_path: Path, rows: list[dict], known: dict) -> dict:
    """Parity and known-species accuracy of `bundle` against the TFLite file on `rows`. Returns figures.

    `known` is known_maps(...): known-species figures are given for each method, and agreement on the
    photos of known species for the method that finds the most.
    """
    bm, tm = BundleModel(bundle), TFLiteModel(tflite_path)
    species = bundle.output_index
    rng = np.random.default_rng(0)
    n, agree, floor = 0, {1: [], 5: []}, {1: [], 5: []}
    hits = {m: {"bundle": [], "tflite": [], "species": set()} for m in known}
    best = max(known, key=lambda m: sum(known[m](r) is not None for r in rows))
    agree_known = {1: [], 5: []}
    scope = []
    for r, px, logits in bm.run(rows):
        q_logits, _ = tm(px)
        # The noise floor: the TFLite file against itself on an invisibly nudged copy of the photo
        # (a tiny random offset breaks its ties at random instead of by index).
        q_nudged = tm(nudge(px, rng))[0] + rng.random(len(q_logits)) * 1e-3
        n += 1
        for k in (1, 5):
            agree[k].append(agreement(q_logits, logits, k))
            floor[k].append(agreement(q_logits, q_nudged, k))
        p = np.exp(logits - logits.max())
        p /= p.sum()
        scope.append(float(p[species].sum()))
        for m, find in known.items():
            c = find(r)
            if c is None:
                continue
            hits[m]["species"].add(c)
            if m == best:
                for k in (1, 5):
                    agree_known[k].append(agree[k][-1])
            for who, s in (("bundle", logits), ("tflite", q_logits)):
                top = np.argsort(-s, kind="stable")[:5]
                hits[m][who].append((top[0] == c, c in top))

    def mean(rows, key, scale=1):
        return round(float(np.mean([a[key] for a in rows])) / scale, 4)
    out = {"photos": n,
           "top1_agreement": mean(agree[1], "tie_aware"), "top1_agreement_strict": mean(agree[1], "strict"),
           "top5_set_agreement": mean(agree[5], "tie_aware"), "top5_set_agreement_strict": mean(agree[5], "strict"),
           "top5_set_within_one_step": mean(agree[5], "within_step"), "top5_mean_overlap": mean(agree[5], "overlap", 5),
           "tflite_vs_itself_nudged": {"top1": mean(floor[1], "tie_aware"), "top5_set": mean(floor[5], "tie_aware")},
           "in_scope_scores": scope}
    if agree_known[1]:  # photos of species the expert knows: mostly confident answers
        out["top1_agreement_known"] = mean(agree_known[1], "tie_aware")
        out["top5_set_agreement_known"] = mean(agree_known[5], "tie_aware")
    for m, h in hits.items():
        if h["bundle"]:
            out[f"known_by_{m}"] = {"photos": len(h["bundle"]), "species": len(h["species"]), **{
                f"{k}_{who}": round(float(np.mean([a[i] for a in h[who]])), 4)
                for who in ("bundle", "tflite") for i, k in enumerate(("top1", "top5"))}}
    return out


def resize_study(bundle, rows: list[dict], find) -> dict:
    """Known-species top-1/top-5 of the bundle under each resize policy in RESIZE_POLICIES.

    `find` maps a photo row to its class (one of known_maps' methods)."""
    from inat.core.images import open_image
    rows = [(r, find(r)) for r in rows]
    rows = [(r, c) for r, c in rows if c is not None]
    photos = [open_image(r["path"]) for r, _ in rows]
    out = {}
    for label, change in RESIZE_POLICIES.items():
        bm = BundleModel(bundle, bundle.preprocess.replace(**change))
        hits = []
        for start in range(0, len(rows), 32):
            chunk = rows[start:start + 32]
            logits = bm.logits_batch([bm.pixels(im) for im in photos[start:start + 32]])
            for (_, c), z in zip(chunk, logits):
                top = np.argsort(-z, kind="stable")[:5]
                hits.append((top[0] == c, c in top, int(top[0])))
        out[label] = {"n": len(hits), "top1": float(np.mean([a for a, _, _ in hits])),
                      "top5": float(np.mean([b for _, b, _ in hits])), "_top": [t for _, _, t in hits]}
    base = out["shorter, crop 1.0"].pop("_top")
    for label in out:
        top = out[label].pop("_top", base)
        out[label]["same_top1_as_crop_1.0"] = float(np.mean([a == b for a, b in zip(top, base)])) if top else None
    return out


def imagenet_known(bundle) -> list[dict]:
    """imagenet-samples photos whose ImageNet class maps (assets/starter_taxonomy.tsv) to a species of `bundle`."""
    folder = DATA / "imagenet-samples"
    with open(REPO / "assets" / "starter_taxonomy.tsv", newline="", encoding="utf-8") as f:
        sci = {int(r["class_id"]): r["scientific_name"] for r in csv.DictReader(f, delimiter="\t")}
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {t.scientific_name for t in bundle.classes}
    return [{"path": folder / r["file"], "file": r["file"], "scientific_name": sci[int(r["index"])],
             "common_name": r["name"]} for r in rows if sci.get(int(r["index"])) in names]


def imagenet_objects() -> list[dict]:
    """imagenet-samples photos of classes that are not organisms (not in assets/starter_taxonomy.tsv)."""
    folder = DATA / "imagenet-samples"
    with open(REPO / "assets" / "starter_taxonomy.tsv", newline="", encoding="utf-8") as f:
        organisms = {int(r["class_id"]) for r in csv.DictReader(f, delimiter="\t")}
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        return [{"path": folder / r["file"]} for r in csv.DictReader(f) if int(r["index"]) not in organisms]


def scope_figures(inside: list[float], outside: dict[str, list[float]]) -> dict:
    """Recall (own group kept in scope) and rejection (each other set judged out) at SCOPE_SWEEP."""
    a = np.array(inside)
    out = {}
    for t in SCOPE_SWEEP:
        row = {"recall": float((a >= t).mean())}
        for name, s in outside.items():
            row[f"rejection_{name}"] = float((np.array(s) < t).mean())
        out[f"{t:g}"] = row
    return out


def species_scores(bundle, rows: list[dict]) -> list[float]:
    """Summed species probability (1 − background) of `bundle` on each photo."""
    out = []
    for _, _, z in BundleModel(bundle).run(rows):
        p = np.exp(z - z.max())
        out.append(float(p[bundle.output_index].sum() / p.sum()))
    return out


def make_bundle(name: str, source: Path, folder: Path):
    """The expert's bundle, made by the download command's own code path from `source`."""
    from inat.models.bundle import load_bundle
    from inat.naturalist.download import install
    install(name, source_dir=source, out=folder / name, show=False)
    return load_bundle(folder / name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=SOURCE, help="folder with the experts' source files")
    ap.add_argument("--limit", type=int, default=None, help="every N-th photo only (quick runs)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="store benchmarks/results/expert_parity.json")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    from inat.core.images import open_image
    from inat.naturalist.experts import EXPERTS
    results = {"date": time.strftime("%Y-%m-%d"), "command": "python " + " ".join(sys.argv), "experts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (own, others) in SETS.items():
            t0 = time.perf_counter()
            bundle = make_bundle(name, args.source, Path(tmp))
            tflite = args.source / EXPERTS[name].model.name
            rows = subset(labelled_photos(DATA / own), args.limit or 1)
            known = known_maps(bundle, own)
            r = compare(bundle, tflite, rows, known)
            bm = BundleModel(bundle)
            r["layer_check"] = layer_check(tflite, bm, bm.pixels(open_image(rows[0]["path"])))
            outside = {o: species_scores(bundle, subset(labelled_photos(DATA / o), args.limit or 1)) for o in others}
            outside["imagenet-objects"] = species_scores(bundle, subset(imagenet_objects(), args.limit or 1))
            r["scope"] = scope_figures(r.pop("in_scope_scores"), outside)
            find = known.get("match_file", known["scientific_name"])
            r["resize_study"] = {own: resize_study(bundle, rows, find)}
            inet = imagenet_known(bundle)
            if inet:
                r["resize_study"]["imagenet-samples (non-square photos)"] = resize_study(
                    bundle, inet, known_maps(bundle, "imagenet-samples")["scientific_name"])
            r["data"] = own
            r["seconds"] = round(time.perf_counter() - t0, 1)
            results["experts"][name] = r
            print(json.dumps({name: {k: v for k, v in r.items() if k not in ("scope", "resize_study")}}, indent=1))
            print(json.dumps({"scope": r["scope"], "resize_study": r["resize_study"]}, indent=1))
    if args.write:
        out = REPO / "benchmarks" / "results" / "expert_parity.json"
        from results_file import write_results  # here: the tests import this module without benchmarks/ on the path
        write_results(out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
