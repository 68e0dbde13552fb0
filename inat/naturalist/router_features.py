"""The router's inputs, taken from ONE forward pass of the starter (torch; training and checks only).

The feature contract (what `inat.naturalist.router.Router.probabilities` expects), for a batch x of shape
(N, 3, 224, 224) made by the starter's own preprocessing (`LITE0_PREPROCESS` through
`eval_transform`, or the predictor's bit-identical `ArrayTransform`; photos opened with
`open_image(path, draft_size=512)` as the predictor does):

    fmap     = model.forward_features(x)                    # (N, 1280, 7, 7): conv_head → bn2 (+ReLU6)
    features = model.forward_head(fmap, pre_logits=True)    # (N, 1280): global average pool, flattened
    logits   = model.get_classifier()(features)             # (N, 1000): the final Linear, == model(x)
    probs    = softmax(logits) in float64, stored float32   # the plain softmax (temperature 1), not the calibrated one

In an ONNX graph of the starter, `features` is the input of the final Gemm (the output of
GlobalAveragePool → Flatten) and `logits` the graph's output; exporting both as outputs serves
the predictor and the router from the same run (`inat.runtime.export` writes the starter's export so, and
`inat.naturalist.scope.GroupModel` reads both). Dropout is inactive in eval mode, so `features` is deterministic.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from ..core.images import open_image
from ..core.preprocess import draft_size, eval_transform
from ..core.probability import softmax
from ..models.architectures import logits_and_features
from ..models.lite0 import LITE0_PREPROCESS
from ..models.starter import starter_bundle
from .router import FEATURE_DIM, STARTER_OUTPUTS


def load_starter_model():
    """The starter's timm model (1000 outputs) in eval mode, weights from the installed package."""
    return starter_bundle().load_model()


def features_and_probs(model, batch) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, 1280) float32, probs (N, 1000) float32) for a (N, 3, S, S) batch, one forward pass."""
    import torch  # keeps torch out of start-up: only training the router computes features this way
    if isinstance(batch, np.ndarray):
        batch = torch.from_numpy(batch)
    with torch.inference_mode():
        logits, feats = logits_and_features(model, batch)
    return feats.float().numpy(), softmax(logits.float().numpy())


def extract(paths, model=None, batch_size: int = 32, progress: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and starter probabilities for photo files, in order (see the module docstring).

    Photos are opened as the predictor opens them (reduced-scale JPEG decoding) and preprocessed
    with the starter's `eval_transform`. `progress`: a label for a tqdm bar, None for none.
    Raises ImageError (one line) for a photo that cannot be read.
    """
    import torch  # keeps torch out of start-up
    model = model if model is not None else load_starter_model()
    transform = eval_transform(LITE0_PREPROCESS)
    draft = draft_size(LITE0_PREPROCESS)
    paths = list(paths)
    feats = np.zeros((len(paths), FEATURE_DIM), dtype=np.float32)
    probs = np.zeros((len(paths), STARTER_OUTPUTS), dtype=np.float32)
    with tqdm(total=len(paths), desc=progress, unit="photo", disable=progress is None) as bar:
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            x = torch.stack([transform(open_image(p, draft_size=draft)) for p in chunk])
            feats[start:start + len(chunk)], probs[start:start + len(chunk)] = features_and_probs(model, x)
            bar.update(len(chunk))
    return feats, probs
