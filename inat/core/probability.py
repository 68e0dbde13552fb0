"""From a network's logits to the probabilities a user is shown: the softmax and a bundle's calibration.

    calibrated(logits, bundle.calibration)   # (N, num_outputs), rows sum to 1

A calibration (written by `python -m inat calibrate`, see `inat.training.calibration`) is one of
- `{"method": "temperature", "temperature": T}`: softmax(logits / T);
- `{"method": "beta", "temperature": T, "beta": {"a", "b", "c"}}`: the same, then the top class's
  probability p is moved to sigmoid(a·ln p − b·ln(1 − p) + c) (beta calibration, Kull et al. 2017, of the
  top label) and the other classes share the rest in proportion. With a, b ≥ 0 the map is increasing, and
  the top class always stays the top class, so top-1 and top-5 do not change.
- `{}`: the plain softmax.
This module is the only place those maps are written; fitting them is `inat.training.calibration`'s business.
"""
from __future__ import annotations

import math

import numpy as np

METHODS = ("temperature", "beta")
_EPS = 1e-7


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (no overflow), returned as float32."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def sigmoid(z) -> np.ndarray:
    """1 / (1 + e^-z), in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def logit(p, eps: float = 1e-6) -> np.ndarray:
    """ln(p / (1 − p)) of probabilities clipped to [eps, 1 − eps], in float64."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(p / (1 - p))


def beta_features(top: np.ndarray) -> np.ndarray:
    """(N, 3) [ln p, −ln(1 − p), 1] of the top probabilities p: the beta map is sigmoid(features @ [a, b, c])."""
    p = np.clip(np.asarray(top, dtype=np.float64), _EPS, 1 - _EPS)
    return np.stack([np.log(p), -np.log1p(-p), np.ones_like(p)], axis=1)


def top_label_beta(probs: np.ndarray, beta: dict) -> np.ndarray:
    """`probs` with each row's top probability moved by the beta map and the rest rescaled to fill the row."""
    p = np.asarray(probs, dtype=np.float64)
    if len(p) == 0 or p.shape[1] < 2:
        return p.astype(np.float32)
    rows = np.arange(len(p))
    k = p.shape[1]
    first = p.argmax(axis=1)                               # the top two without sorting every class
    top, second = p[rows, first], np.partition(p, k - 2, axis=1)[:, k - 2]
    w = np.array([beta["a"], beta["b"], beta["c"]], dtype=np.float64)
    new = sigmoid(beta_features(top) @ w)
    rest = np.maximum(1.0 - top, 0.0)
    certain = rest < 1e-12  # the softmax gave the top everything: the rest is shared equally
    # Keep the ranking: after rescaling the rest by (1 − new) / rest, the top stays above the second
    # (by a margin float32 can still tell apart).
    floor = np.where(certain, 1.0 / k, second / np.maximum(rest + second, 1e-300)) + 1e-6
    new = np.minimum(np.maximum(new, floor), 1.0)
    out = np.where(certain[:, None], ((1.0 - new) / (k - 1))[:, None],
                   p * ((1.0 - new) / np.maximum(rest, 1e-300))[:, None])
    out[rows, first] = new
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def calibrated(logits: np.ndarray, calibration: dict | None) -> np.ndarray:
    """(N, num_outputs) float32 probabilities of `logits` under a bundle's `calibration` (see the docstring)."""
    calibration = calibration or {}
    probs = softmax(np.asarray(logits, dtype=np.float64) / float(calibration.get("temperature", 1.0)))
    if calibration.get("method") == "beta":
        probs = top_label_beta(probs, calibration["beta"])
    return probs


def check_calibration(calibration) -> None:
    """Raise ValueError unless `calibration` is a dict that `calibrated` can apply (bundles from disk are checked)."""
    if not isinstance(calibration, dict):
        raise ValueError("calibration must be an object")
    t = calibration.get("temperature", 1.0)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.01 <= t <= 100:
        raise ValueError(f"calibration temperature {t!r} is not a number in 0.01..100")
    method = calibration.get("method", "temperature")
    if method not in METHODS:
        raise ValueError(f"calibration method {method!r} is not one of {', '.join(METHODS)}")
    if method == "beta":
        beta = calibration.get("beta")
        if not isinstance(beta, dict) or not all(
                isinstance(beta.get(k), (int, float)) and not isinstance(beta.get(k), bool)
                and math.isfinite(beta[k]) and abs(beta[k]) <= 100 for k in "abc"):
            raise ValueError("calibration beta must hold finite numbers a, b and c")
        if beta["a"] < 0 or beta["b"] < 0:
            raise ValueError("calibration beta a and b must be ≥ 0 (an increasing map)")
