"""Why `train --init-from` recalibrates a converted expert's batch norm: train mode vs eval mode.

    python benchmarks/expert_batchnorm.py [--source ../shared/models/coral-inat2017] [--out FILE]

The bird expert is made as `download` makes it (identity BN layers holding the folded biases). In
train mode a BN layer normalises by the batch's statistics: we count on how many bird photos the
train-mode answer is still the eval-mode (pretrained) one, before and after
`inat.training.warmstart.recalibrate_batchnorm` on other bird photos, and that the eval-mode answers stay
the same. Photos: birds525, every 16th for the probe batch, the ones after them for statistics.
The counts go to benchmarks/results/expert_batchnorm.json (--out to put them elsewhere).
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

from results_file import write_results  # benchmarks/, the script's folder

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "expert_batchnorm.json"


def answers(model, x, train: bool):
    """Top-1 output of a copy of `model` in train or eval mode (a train-mode pass moves BN statistics)."""
    import torch
    m = copy.deepcopy(model).train(train)
    with torch.no_grad():
        return m(x).argmax(1)


def main() -> int:
    import torch
    from expert_parity import DATA, SOURCE, labelled_photos, make_bundle

    from inat.core.images import open_image
    from inat.core.preprocess import eval_transform
    from inat.training.warmstart import recalibrate_batchnorm
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"where the counts go (default {RESULTS})")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_bundle("inat2017-birds", args.source, Path(tmp))
        tf = eval_transform(bundle.preprocess)
        rows = labelled_photos(DATA / "birds525")
        probe = torch.stack([tf(open_image(r["path"])) for r in rows[::16]])
        calib = torch.stack([tf(open_image(r["path"])) for r in rows[1::16]])
        model = bundle.load_model()
        eval0, train0 = answers(model, probe, False), answers(model, probe, True)
        recalibrate_batchnorm(model, [calib[i:i + 33] for i in range(0, len(calib), 33)])
        eval1, train1 = answers(model, probe, False), answers(model, probe, True)
    n = len(probe)
    print(f"identity BN:  train-mode answer = eval-mode answer on {int((train0 == eval0).sum())} of {n} photos")
    print(f"recalibrated: eval-mode answers unchanged on {int((eval1 == eval0).sum())} of {n}; "
          f"train-mode = eval-mode on {int((train1 == eval1).sum())} of {n}")
    write_results(args.out, {
        "date": time.strftime("%Y-%m-%d"), "expert": "inat2017-birds", "source": str(args.source),
        "probe_photos": n, "calibration_photos": len(calib), "photos": "birds525 (every 16th probe, the next for BN)",
        "identity_bn_train_equals_eval": int((train0 == eval0).sum()),
        "recalibrated_eval_unchanged": int((eval1 == eval0).sum()),
        "recalibrated_train_equals_eval": int((train1 == eval1).sum())})
    return 0


if __name__ == "__main__":
    sys.exit(main())
