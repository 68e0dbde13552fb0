"""Prove the packaged EfficientNet-Lite0 ImageNet weights load correctly into timm.

Default run: on real ImageNet photos, compare timm hosts (`tf_efficientnet_lite0`, TF "same"
padding, and `efficientnet_lite0`, symmetric padding) loaded via `inat.models.lite0` against an
independent functional reference forward pass that reads the ORIGINAL EfficientNet-PyTorch key
names (`_blocks.N._depthwise_conv.weight`, ...) and applies TF "same" padding the way
EfficientNet-PyTorch's static-same-padding convs do. Prints max abs logit difference, top-1
agreement and top-1/top-5 accuracy for each host.

`--preprocess-study`: also score `tf_efficientnet_lite0` with every combination of mean/std,
resize mode and interpolation on all photos and print a table.

Usage (from the repo root):
    python scripts/check_lite0_weights.py [--preprocess-study] [--limit N] [--write]
`--write` also saves the report to benchmarks/results/lite0_weights.txt (the README's figures).
Data: ../shared/data/imagenet-samples (labels.csv: index,wnid,name,file).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms as T

ROOT = Path(__file__).resolve().parents[1]
from inat.core.preprocess import Preprocess, eval_transform  # noqa: E402
from inat.models.lite0 import LITE0_PREPROCESS, lite0_weights_path, load_lite0_imagenet_state_dict

DATA = ROOT.parent / "shared" / "data" / "imagenet-samples"
BATCH = 32
IMAGE_SIZE = 224
BN_EPS = 1e-3  # TF EfficientNet batch_norm_epsilon

# Lite0 stages in TF block-string form (tensorflow/tpu efficientnet_lite_builder), SE removed:
# repeats, kernel, stride, expand ratio, in/out channels. Lite0 scales width/depth by 1.0;
# stem 32 and head 1280 are fixed anyway.
LITE0_BLOCKS = (
    "r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24", "r2_k5_s22_e6_i24_o40",
    "r3_k3_s22_e6_i40_o80", "r3_k5_s11_e6_i80_o112", "r4_k5_s22_e6_i112_o192",
    "r1_k3_s11_e6_i192_o320",
)

NORMS = {
    "0.5/0.5": ((0.5,) * 3, (0.5,) * 3),
    "TF (x*255-127)/128": ((127 / 255,) * 3, (128 / 255,) * 3),
    "ImageNet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


# ---------------------------------------------------------------- independent reference model
def _expand_blocks() -> list[tuple[int, int, int, int, int]]:
    """Return one (kernel, stride, expand, in_ch, out_ch) per block, repeats unrolled."""
    blocks = []
    for spec in LITE0_BLOCKS:
        f = {part[0]: part[1:] for part in spec.split("_")}
        repeats, k, s, e = int(f["r"]), int(f["k"]), int(f["s"][0]), int(f["e"])
        cin, cout = int(f["i"]), int(f["o"])
        for r in range(repeats):
            # only the first repeat changes stride/channels, as in TF and EfficientNet-PyTorch
            blocks.append((k, s, e, cin, cout) if r == 0 else (k, 1, e, cout, cout))
    return blocks


def _static_same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    """Return (before, after) TF "SAME" padding for a fixed input size, extra pixel after."""
    pad = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return pad // 2, pad - pad // 2


def _conv_same(x, w, size: int, stride: int, groups: int = 1):
    """Return (conv output, output size) with EfficientNet-PyTorch static "same" padding."""
    k = w.shape[-1]
    lo, hi = _static_same_pad(size, k, stride)
    x = F.pad(x, (lo, hi, lo, hi))
    return F.conv2d(x, w, stride=stride, groups=groups), math.ceil(size / stride)


def _bn(x, sd, prefix):
    """Return eval-mode batch norm of x with the `prefix` running stats (TF eps 1e-3)."""
    return F.batch_norm(x, sd[prefix + ".running_mean"], sd[prefix + ".running_var"],
                        sd[prefix + ".weight"], sd[prefix + ".bias"], False, 0.0, BN_EPS)


def reference_forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return Lite0 ImageNet logits for 224x224 batch x, using the ORIGINAL state_dict keys."""
    assert x.shape[-2:] == (IMAGE_SIZE, IMAGE_SIZE), "static same padding is built for 224"
    size = IMAGE_SIZE
    x, size = _conv_same(x, sd["_conv_stem.weight"], size, 2)
    x = F.relu6(_bn(x, sd, "_bn0"))
    for i, (k, s, e, cin, cout) in enumerate(_expand_blocks()):
        p = f"_blocks.{i}."
        h = x
        if e != 1:
            h = F.relu6(_bn(F.conv2d(h, sd[p + "_expand_conv.weight"]), sd, p + "_bn0"))
        h, out_size = _conv_same(h, sd[p + "_depthwise_conv.weight"], size, s, groups=h.shape[1])
        h = F.relu6(_bn(h, sd, p + "_bn1"))
        h = _bn(F.conv2d(h, sd[p + "_project_conv.weight"]), sd, p + "_bn2")
        if s == 1 and cin == cout:  # id_skip
            h = h + x
        x, size = h, out_size
    x = F.relu6(_bn(F.conv2d(x, sd["_conv_head.weight"]), sd, "_bn1"))
    return F.linear(x.mean((2, 3)), sd["_fc.weight"], sd["_fc.bias"])


# ---------------------------------------------------------------- data
def load_samples(limit: int | None) -> list[tuple[Path, int]]:
    """Return (photo path, ImageNet class index) pairs from labels.csv."""
    with open(DATA / "labels.csv", newline="") as fh:
        rows = [(DATA / r["file"], int(r["index"])) for r in csv.DictReader(fh)]
    return rows[:limit] if limit else rows


def resize_variants(samples, variants: dict[str, T.Compose]) -> dict[str, torch.Tensor]:
    """Return {variant: uint8 N x 3 x 224 x 224}, decoding each photo once for all variants."""
    out = {name: [] for name in variants}
    for path, _ in samples:
        with Image.open(path) as im:
            im = im.convert("RGB")  # a few samples are greyscale
            for name, tf in variants.items():
                out[name].append(T.functional.pil_to_tensor(tf(im)))
    return {name: torch.stack(t) for name, t in out.items()}


def resize_tf(mode: str, interp: str) -> T.Compose:
    """Return the project's eval resize (+crop) steps for a resize mode and interpolation.

    Taken from `inat.core.preprocess.eval_transform` minus ToTensor/Normalize, so the study measures
    exactly what the app runs; images stay uint8 (4 variants x 500 photos fit in ~300 MB).
    """
    pre = Preprocess.from_dict({**LITE0_PREPROCESS, "resize": mode, "interpolation": interp})
    steps = eval_transform(pre).transforms
    assert isinstance(steps[-2], T.ToTensor) and isinstance(steps[-1], T.Normalize)
    return T.Compose(steps[:-2])


def run_logits(fn, u8: torch.Tensor, mean, std) -> torch.Tensor:
    """Return logits of fn over uint8 images u8, normalised with mean/std, in batches of 32."""
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    outs = []
    with torch.inference_mode():
        for i in range(0, len(u8), BATCH):
            x = (u8[i:i + BATCH].float() / 255 - m) / s
            # channels_last makes Lite0's depthwise convs ~1.5x faster on CPU
            outs.append(fn(x.contiguous(memory_format=torch.channels_last)))
    return torch.cat(outs)


def topk_acc(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Return (top-1 %, top-5 %) of logits against labels."""
    top5 = logits.topk(5, dim=1).indices
    top1 = (top5[:, 0] == labels).float().mean().item() * 100
    top5 = (top5 == labels[:, None]).any(1).float().mean().item() * 100
    return top1, top5


# ---------------------------------------------------------------- checks
def parity(u8, labels) -> torch.Tensor:
    """Print each timm host's agreement with the reference under LITE0_PREPROCESS.

    Returns the tf_efficientnet_lite0 logits, so the preprocessing study can reuse them.
    """
    import timm

    source = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    mapped = load_lite0_imagenet_state_dict()
    mean, std = LITE0_PREPROCESS["mean"], LITE0_PREPROCESS["std"]
    t0 = time.time()
    ref = run_logits(lambda x: reference_forward(source, x), u8, mean, std)
    print(f"reference (original keys, static same pad): top-1/top-5 "
          f"{topk_acc(ref, labels)[0]:.1f}% / {topk_acc(ref, labels)[1]:.1f}%  ({time.time() - t0:.0f}s)")
    print(f"{'timm host':<24} {'max|dlogit|':>12} {'top-1 agree':>12} {'top-1':>7} {'top-5':>7}")
    for arch in ("tf_efficientnet_lite0", "efficientnet_lite0"):
        model = timm.create_model(arch, pretrained=False)
        model.load_state_dict(mapped, strict=True)
        model.eval().to(memory_format=torch.channels_last)
        logits = run_logits(model, u8, mean, std)
        if arch == "tf_efficientnet_lite0":
            tf_logits = logits
        diff = (logits - ref).abs().max().item()
        agree = (logits.argmax(1) == ref.argmax(1)).sum().item()
        t1, t5 = topk_acc(logits, labels)
        print(f"{arch:<24} {diff:>12.3g} {agree:>8}/{len(u8):<3} {t1:>6.1f}% {t5:>6.1f}%")
    return tf_logits


def preprocess_study(samples, labels, default_logits) -> None:
    """Print top-1/top-5 of tf_efficientnet_lite0 for each preprocessing combination.

    Every mean/std ("0.5/0.5", "ImageNet") x resize x interpolation, plus the exact TF Lite
    normalisation with LITE0_PREPROCESS's resize (it differs from 0.5/0.5 by <0.4%, so one row
    is enough and saves 2-core CPU time). default_logits: the model's logits under
    LITE0_PREPROCESS, already computed by parity().
    """
    from inat.models.lite0 import create_lite0_imagenet

    model = create_lite0_imagenet().to(memory_format=torch.channels_last)
    p = LITE0_PREPROCESS
    default = (p["resize"], p["interpolation"], (tuple(p["mean"]), tuple(p["std"])))
    combos = list(itertools.product(("shorter", "squash"), ("bilinear", "bicubic"),
                                    ("0.5/0.5", "ImageNet")))
    combos.append((p["resize"], p["interpolation"], "TF (x*255-127)/128"))
    images = resize_variants(samples, {(m, i): resize_tf(m, i) for m, i, _ in combos})
    rows = []
    for mode, interp, norm in combos:
        if (mode, interp, NORMS[norm]) == default:
            logits = default_logits
        else:
            logits = run_logits(model, images[(mode, interp)], *NORMS[norm])
        rows.append((*topk_acc(logits, labels), mode, interp, norm))
        if norm.startswith("TF"):
            diff = (logits - default_logits).abs().max().item()
            agree = (logits.argmax(1) == default_logits.argmax(1)).sum().item()
            tf_note = (f"TF (x*255-127)/128 vs LITE0_PREPROCESS: max|dlogit| {diff:.3g}, "
                       f"top-1 agreement {agree}/{len(labels)}")
    resize_name = {"shorter": f"shorter->{int(IMAGE_SIZE / p['crop_pct'])}, center crop "
                              f"{IMAGE_SIZE} (crop_pct {p['crop_pct']})",
                   "squash": f"squash {IMAGE_SIZE}x{IMAGE_SIZE}"}
    print(f"\n| mean/std | resize | interpolation | top-1 | top-5 |   (n={len(labels)})")
    print("|---|---|---|---|---|")
    for t1, t5, mode, interp, norm in rows:
        print(f"| {norm} | {resize_name[mode]} | {interp} | {t1:.1f}% | {t5:.1f}% |")
    print(tf_note)
    best = max(rows, key=lambda r: (r[0], r[1]))
    # binomial standard error of a top-1 rate on n photos: gaps smaller than this are noise
    se = 100 * math.sqrt(best[0] / 100 * (1 - best[0] / 100) / len(labels))
    print(f"best top-1: {best[4]}, {resize_name[best[2]]}, {best[3]}: "
          f"top-1 {best[0]:.1f}%, top-5 {best[1]:.1f}% (standard error {se:.1f} points)")
    for t1, t5, mode, interp, norm in rows:
        if best[0] - t1 <= se and (mode, interp, norm) != best[2:]:
            print(f"  within 1 SE: {norm}, {resize_name[mode]}, {interp}: {t1:.1f}% / {t5:.1f}%")


class _Tee:
    """stdout that is also written to a file (the report `--write` keeps)."""

    def __init__(self, stream, path: Path):
        self.stream, self.file = stream, open(path, "w", encoding="utf-8")

    def write(self, text: str) -> int:
        self.file.write(text)
        self.file.flush()
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preprocess-study", action="store_true",
                        help="also score mean/std x resize x interpolation combinations")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    parser.add_argument("--write", action="store_true",
                        help="also save the report to benchmarks/results/lite0_weights.txt")
    args = parser.parse_args()
    if args.write:
        sys.stdout = _Tee(sys.stdout, ROOT / "benchmarks" / "results" / "lite0_weights.txt")
    torch.set_num_threads(2)  # 2 shared cores
    if not DATA.is_dir():
        sys.exit(f"missing {DATA}")
    t0 = time.time()
    samples = load_samples(args.limit)
    labels = torch.tensor([c for _, c in samples])
    default = resize_tf(LITE0_PREPROCESS["resize"], LITE0_PREPROCESS["interpolation"])
    u8 = resize_variants(samples, {"default": default})["default"]
    print(f"{len(samples)} photos from {DATA}; preprocessing {LITE0_PREPROCESS}")
    tf_logits = parity(u8, labels)
    if args.preprocess_study:
        preprocess_study(samples, labels, tf_logits)
    print(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
