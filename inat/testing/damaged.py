"""Damaged and hostile model files, for the tests and the robustness benchmark: live pickles, cut, bit-flipped and
retyped weights, mutated bundle.json texts (hypothesis strategies: needs requirements-dev.txt), and the judge of
what the library did with each (`try_bundle`)."""
from __future__ import annotations

import json
import math
import pickle
import shutil
from pathlib import Path

from hypothesis import strategies as st

from ..models.bundle import BundleError, load_bundle

# -----------------------------------------------------------------------------------------------
# A live pickle: unpickling it runs code that creates MARKER.

class Evil:
    """Pickles to `exec(code)`; unpickling it writes `marker` (the proof that it ran)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def write_pickles(folder: Path, marker: Path) -> dict[str, Path]:
    """Every pickle flavour we refuse: raw protocols 0/2/5 and torch.save's zip, as files."""
    import torch
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for proto in (0, 2, 5):
        files[f"pickle-p{proto}"] = folder / f"evil_p{proto}.pt"
        files[f"pickle-p{proto}"].write_bytes(pickle.dumps(Evil(marker), protocol=proto))
    files["torch-zip"] = folder / "evil_zip.pth"
    torch.save({"state_dict": {}, "evil": Evil(marker)}, files["torch-zip"])
    return files


def bundle_with_weights_file(src_bundle: Path, dst: Path, weights_bytes: bytes) -> Path:
    """A copy of a good bundle folder whose model.safetensors is replaced by `weights_bytes`."""
    shutil.copytree(src_bundle, dst)
    (dst / "model.safetensors").write_bytes(weights_bytes)
    return dst


# -----------------------------------------------------------------------------------------------
# Judging a damaged bundle.

def names_a_file(msg: str, folder: Path) -> bool:
    return any(str(folder / f) in msg for f in ("bundle.json", "model.safetensors")) or str(folder) in msg


def try_bundle(folder: Path, photo: str) -> tuple[str, str]:
    """("ok", "") when the bundle predicts finite probabilities, ("refused", message) for a proper
    BundleError, ("FAIL", why) otherwise. Never predicts with a preprocess that would need gigabytes."""
    from inat.identify.predict import Predictor
    try:
        bundle = load_bundle(folder)
        pre = bundle.preprocess
        # The resize before the crop is input_size / crop_pct: a tiny crop_pct is a memory bomb.
        crop = pre.crop_pct
        if pre.resize == "shorter" and not (isinstance(crop, (int, float)) and math.isfinite(crop) and
                                            crop >= 0.125):
            return "FAIL", f"load_bundle accepted preprocess crop_pct={crop!r}"
        result = Predictor(bundle).predict([photo], k=3)[0]
    except BundleError as e:
        msg = str(e)
        if "\n" in msg or not names_a_file(msg, folder):
            return "FAIL", f"BundleError without the file named on one line: {msg!r}"
        return "refused", msg
    except Exception as e:
        return "FAIL", f"{e.__class__.__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    if result.error:
        return "FAIL", f"the photo was refused: {result.error}"
    probs = [p.probability for p in result.predictions]
    if not probs or not all(math.isfinite(p) and 0 <= p <= 1 for p in probs):
        return "FAIL", f"non-finite or out-of-range probabilities {probs}"
    return "ok", ""


# -- bundle.json mutations ------------------------------------------------------------------------
EDGE_VALUES = [None, True, False, 0, -1, 1, 2**31, 2**64, -2**63, 0.0, -0.5, 1e-9, 1e308, -1e308, math.nan,
               math.inf, -math.inf, "", "0", "x" * 300, [], [0], [1, 2, 3], {}, {"a": 1}, "efficientnet_lite0"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**64, 2**64) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


def paths_of(meta: dict) -> list[tuple]:
    """Every place in a bundle.json a mutation can hit: top-level keys, preprocess fields, class fields."""
    out = [(k,) for k in meta]
    if isinstance(meta.get("preprocess"), dict):
        out += [("preprocess", k) for k in meta["preprocess"]]
    classes = meta.get("classes")
    for i in sorted({0, len(classes) - 1}) if isinstance(classes, list) and classes else ():
        out.append(("classes", i))
        if isinstance(classes[i], dict):
            out += [("classes", i, k) for k in classes[i]]
            if isinstance(classes[i].get("taxonomy"), dict):
                out += [("classes", i, "taxonomy", k) for k in classes[i]["taxonomy"]]
    return out


def apply(meta, path: tuple, op: str, value):
    """`meta` with the value at `path` deleted or replaced (a new object; `meta` is untouched)."""
    meta = json.loads(json.dumps(meta))
    parent = meta
    try:
        for key in path[:-1]:
            parent = parent[key]
        if op == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    except (KeyError, IndexError, TypeError):  # an earlier mutation removed or retyped the parent
        pass
    return meta


@st.composite
def bundle_json_texts(draw, meta: dict) -> str:
    """The text of a mutated bundle.json: 1–3 field mutations, or a wholly foreign file."""
    how = draw(st.sampled_from(["fields", "fields", "fields", "fields", "random-json", "cut", "nested"]))
    if how == "random-json":
        return json.dumps(draw(JSON_VALUES))
    if how == "cut":
        text = json.dumps(meta)
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == "nested":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        return "[" * depth + "]" * depth if draw(st.booleans()) else '{"a":' * depth + "1" + "}" * depth
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(meta, dict) or not paths_of(meta):
            break
        path = draw(st.sampled_from(paths_of(meta)))
        op = draw(st.sampled_from(["delete", "edge", "edge", "json"]))
        value = draw(st.sampled_from(EDGE_VALUES)) if op == "edge" else draw(JSON_VALUES)
        meta = apply(meta, path, op, value)
    return json.dumps(meta)  # NaN and Infinity are written as such, as a careless writer would


def write_mutant(good: Path, dst: Path, text: str | bytes) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(good, dst)
    (dst / "bundle.json").write_bytes(text.encode() if isinstance(text, str) else text)
    return dst


# -- safetensors damage ---------------------------------------------------------------------------
def cut(data: bytes, offset: int) -> bytes:
    return data[:offset]


def flip_bits(data: bytes, positions: list[int]) -> bytes:
    b = bytearray(data)
    for p in positions:
        b[p // 8 % len(b)] ^= 1 << (p % 8)
    return bytes(b)


def retyped(good: Path, dst: Path, dtype, key: str | None = None) -> Path:
    """A copy of `good` with every floating tensor (or only `key`) stored as `dtype`."""
    from safetensors.torch import load_file, save_file
    state = load_file(str(good / "model.safetensors"))
    state = {k: (v.to(dtype) if v.is_floating_point() and (key is None or k == key) else v) for k, v in state.items()}
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(good, dst)
    save_file(state, str(dst / "model.safetensors"))
    return dst


# -----------------------------------------------------------------------------------------------
# Tests: damaged bundles.
