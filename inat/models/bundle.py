"""The on-disk model format: a folder with `model.safetensors` and `bundle.json`.

The JSON sidecar makes a bundle self-describing: architecture, classes (dataset ids, names,
taxonomy), preprocessing, training history, provenance and measured accuracy. Loading reads JSON
and safetensors only, so nothing is ever unpickled; a bundle alone is enough to predict.

    weights/plants47/bundle.json
    weights/plants47/model.safetensors
    weights/plants47/model.onnx          (optional, written by `python -m inat export`)

`Bundle.load_model()` is the one way to get a bundle's network. Finding bundles by name is
`inat.models.registry`'s job; this module knows no particular model.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.errors import first_line
from ..core.preprocess import Preprocess
from ..core.probability import check_calibration
from ..core.taxonomy import RANKS, Taxon
from .architectures import create_model, get_spec

FORMAT = "inat-bundle"
VERSION = 1
JSON_NAME = "bundle.json"
WEIGHTS_NAME = "model.safetensors"
PENDING_NAME = WEIGHTS_NAME + ".pending"  # new weights written, not yet renamed into place (see save_bundle)


class BundleError(ValueError):
    """A bundle we cannot use; the message is one line naming the file at fault."""


@dataclass
class Bundle:
    """Everything needed to rebuild and run a model, without the weights loaded."""

    name: str
    arch: str
    classes: list[Taxon]
    preprocess: Preprocess
    num_outputs: int | None = None          # model outputs; more than len(classes) when some are out of scope
    output_index: list[int] | None = None   # model output of each class (default: 0..n-1)
    in_scope_threshold: float | None = None  # None: this model has no notion of scope
    history: list[dict] = field(default_factory=list)  # per-epoch metrics of the training run
    run: dict = field(default_factory=dict)             # init, dataset, img_size, epochs, best_epoch, command...
    provenance: dict = field(default_factory=dict)      # dataset, command, date, source checkpoint...
    metrics: dict = field(default_factory=dict)         # measured accuracy, e.g. {"val_top1": 0.83, "split": ...}
    calibration: dict = field(default_factory=dict)     # {"method", "temperature", ...}: inat.core.probability; {}: none
    scope: dict = field(default_factory=dict)           # the world it knows: {"rank", "name", "description"}; {}: unsaid
    expert: bool = False                    # a species expert for its group (birds, insects, plants): naturalist uses it
    default: bool = False
    path: Path | None = None                # the bundle folder; None for built-in models
    state_loader: Callable[[], dict] | None = None  # built-ins: produces the state dict
    weights_id: str | None = None           # id shared with the weights file it describes (see save_bundle)

    def __post_init__(self):
        if self.num_outputs is None:
            self.num_outputs = len(self.classes)
        if self.output_index is None:
            self.output_index = list(range(len(self.classes)))

    @property
    def has_scope(self) -> bool:
        return self.in_scope_threshold is not None

    @property
    def temperature(self) -> float:
        """What the logits are divided by before the softmax (1.0 when the bundle is not calibrated)."""
        return float(self.calibration.get("temperature", 1.0))

    def to_json(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "name": self.name, "arch": self.arch,
            "num_outputs": self.num_outputs, "in_scope_threshold": self.in_scope_threshold,
            "default": self.default, "preprocess": self.preprocess.to_dict(),
            "classes": [{"index": i, **t.to_dict()} for i, t in zip(self.output_index, self.classes)],
            "run": self.run, "metrics": self.metrics, "provenance": self.provenance, "history": self.history,
            **({"calibration": self.calibration} if self.calibration else {}),
            **({"scope": self.scope} if self.scope else {}),
            **({"expert": True} if self.expert else {}),
            **({"weights_id": self.weights_id} if self.weights_id else {}),
        }

    @property
    def weights_file(self) -> Path | None:
        """model.safetensors; or the pending file when a save was cut between its commit and its rename."""
        if not self.path:
            return None
        pending = self.path / PENDING_NAME
        if self.weights_id and pending.is_file() and read_weights_id(pending) == self.weights_id:
            return pending
        return self.path / WEIGHTS_NAME

    def state_dict(self) -> dict:
        """The weights as float32 tensors (fp16 files are widened), read with safetensors."""
        if self.state_loader is not None:
            return self.state_loader()
        from safetensors import SafetensorError  # safetensors.torch loads torch: only with the weights
        from safetensors.torch import load_file
        file = self.weights_file
        if file is None or not file.is_file():
            raise BundleError(f"{file}: weights file missing")
        try:
            state = load_file(str(file))
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise BundleError(f"{file}: not a readable safetensors file ({first_line(e, 100)})") from None
        # Integer, bool or complex weights would load (or be cast) silently and fail at inference;
        # a NaN or infinite weight (one flipped bit can make one) would make every probability NaN.
        odd = [k for k, v in state.items() if not (v.is_floating_point() or k.endswith("num_batches_tracked"))]
        odd = odd or [k for k, v in state.items() if v.is_floating_point() and not bool(v.isfinite().all())]
        if odd:
            what = "non-finite" if state[odd[0]].is_floating_point() else str(state[odd[0]].dtype)
            raise BundleError(f"{file}: tensor {odd[0]} holds {what} values, not usable weights")
        return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}

    def load_model(self):
        """The architecture with this bundle's weights, in eval mode: the one model loader (never unpickles).

        The module is made on the meta device (no memory, no random initialisation) and the weights are
        assigned from the file; a buffer the weights do not carry is then made the ordinary way.
        """
        import torch  # keeps torch out of start-up: only a loaded model needs it
        state = self.state_dict()
        with torch.device("meta"):
            model = create_model(self.arch, self.num_outputs)
        own = model.state_dict()
        bad = sorted(set(own) ^ set(state)) or [k for k in own if own[k].shape != state[k].shape]
        if bad:
            raise BundleError(f"{self.weights_file or self.name}: weights do not match architecture {self.arch} "
                              f"with {self.num_outputs} outputs (first mismatch: {bad[0]})")
        model.load_state_dict(state, assign=True)
        if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
            model = create_model(self.arch, self.num_outputs)
            model.load_state_dict(state)
        return model.eval()

    def current_weights_id(self) -> str:
        """The id of the weights as they are on disk now, which an export must carry to be used.

        The id `save_bundle` stamps into the weights file; for a file without one (written by another
        tool), a digest of its size and first and last MiB; for a built-in, its `weights_id`.
        """
        file = self.weights_file
        if file is None:
            return self.weights_id or self.name
        stamp = read_weights_id(file)
        if stamp:
            return stamp
        try:
            h = hashlib.sha256()
            size = file.stat().st_size
            with open(file, "rb") as f:
                h.update(str(size).encode())
                h.update(f.read(1 << 20))
                f.seek(max(0, size - (1 << 20)))
                h.update(f.read(1 << 20))
        except OSError as e:
            raise BundleError(f"{file}: weights file unreadable ({e.strerror})") from None
        return "sha256:" + h.hexdigest()[:32]

    # -- what it says about itself (inat.models.protocol.Model): one network, its own only part
    composite = False  # a class attribute, not a field: never saved

    @property
    def unmeasured(self) -> list[str]:
        return []

    @property
    def downgraded(self) -> list[str]:
        return []

    def parts(self) -> list["Bundle"]:
        return [self]

    def experts_by_group(self) -> dict[str, "Bundle"]:
        return {}


def save_bundle(bundle: Bundle, out: str | os.PathLike, model_or_state, half: bool = True) -> Path:
    """Write `model.safetensors` (fp16 by default, keeps the repo small) and `bundle.json` into `out`.

    A reader never sees half a file, nor weights that bundle.json does not describe, whenever the
    writer is killed: (1) the weights go to `model.safetensors.pending` (temp file + rename), stamped
    with a fresh `weights_id`; (2) bundle.json, carrying the same id, replaces the old one atomically:
    the commit point; (3) the pending file is renamed over model.safetensors. Killed before (2), the
    old pair stands; between (2) and (3), `Bundle.weights_file` finds the pending file by its stamp,
    and `settle` (run by `train --resume`) finishes the rename. Returns the bundle folder.
    """
    from safetensors.torch import save_file  # loads torch: only when saving
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    tensors = {}
    for k, v in state.items():
        v = v.detach().cpu()
        tensors[k] = (v.half() if half and v.is_floating_point() else v).contiguous()
    stamp = uuid.uuid4().hex
    tmp = out / (PENDING_NAME + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT, "arch": bundle.arch, "weights_id": stamp})
    _fsync(tmp)
    os.replace(tmp, out / PENDING_NAME)
    bundle.weights_id = stamp
    write_json_atomic(out / JSON_NAME, bundle.to_json())
    os.replace(out / PENDING_NAME, out / WEIGHTS_NAME)
    bundle.path = out
    return out


def read_weights_id(file: Path) -> str | None:
    """The `weights_id` in a safetensors file's metadata header (None when absent or unreadable)."""
    try:
        with open(file, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if not 2 <= n <= 100_000_000:
                return None
            header = json.loads(f.read(n))
        return (header.get("__metadata__") or {}).get("weights_id")
    except (OSError, ValueError, AttributeError):
        return None


def settle(folder: str | os.PathLike) -> None:
    """Finish what a killed `save_bundle` left in `folder`: rename committed pending weights into
    place, delete uncommitted ones and stale temp files."""
    folder = Path(folder)
    pending = folder / PENDING_NAME
    if pending.is_file():
        try:
            committed = json.loads((folder / JSON_NAME).read_text(encoding="utf-8")).get("weights_id")
        except (OSError, ValueError, AttributeError):
            committed = None
        if committed and read_weights_id(pending) == committed:
            os.replace(pending, folder / WEIGHTS_NAME)
        else:
            pending.unlink()
    for tmp in folder.glob("*.tmp"):
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush `path` to disk and make it world-readable like any saved file (temp files are owner-only).

    A fixed 0o644 rather than reading the umask: os.umask can only be read by setting it, which is
    process-wide and would race with other threads creating files.
    """
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(path, 0o644)


def write_json_atomic(path: Path, obj) -> None:
    """Write JSON so that the file on disk is always either the old or the new complete version."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=False)
            f.write("\n")
            f.flush()
        _fsync(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def looks_like_pickle(path: Path) -> bool:
    """Whether `path` starts like a pickle or a torch.save zip (either would run code when loaded)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    # Protocol-2+ pickles start with 0x80; torch.save's zip format wraps a pickle ('PK').
    return head[:1] == b"\x80" or head[:2] == b"PK"


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a bundle folder (or its bundle.json). Weights are read later, by load_model()."""
    path = Path(path)
    if path.is_file() and path.name != JSON_NAME:
        if looks_like_pickle(path):
            raise BundleError(
                f"{path}: a pickled checkpoint is never loaded as a model (unpickling can run arbitrary code); "
                f"if you trust it, convert it once: python -m inat import {path} --categories FILE "
                f"--trust-pickle --out weights/NAME")
        raise BundleError(f"{path}: not a model bundle (expected a folder with {JSON_NAME} and {WEIGHTS_NAME})")
    folder = path.parent if path.is_file() else path
    meta_file = folder / JSON_NAME
    if not meta_file.is_file():
        raise BundleError(f"{meta_file}: missing (a bundle folder holds {JSON_NAME} and {WEIGHTS_NAME})")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:  # RecursionError: [[[[...]]]]
        raise BundleError(f"{meta_file}: corrupt JSON ({first_line(e, 100)})") from None
    try:
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        get_spec(meta["arch"])
        classes, index = [], []
        for c in meta["classes"]:
            classes.append(Taxon.from_dict(c))
            index.append(int(c.get("index", len(index))))
        if not classes:
            raise ValueError("no classes")
        num_outputs = int(meta.get("num_outputs") or len(classes))
        if num_outputs > 1_000_000:  # a head that size is a hostile file, not a model (2**64 overflows torch)
            raise ValueError(f"num_outputs {num_outputs} is implausibly large")
        if min(index) < 0 or max(index) >= num_outputs or len(set(index)) != len(index):
            raise ValueError("class 'index' values must be distinct and below num_outputs")
        calibration = meta.get("calibration") or {}
        check_calibration(calibration)
        scope = meta.get("scope") or {}
        if not isinstance(scope, dict) or (scope and not all(isinstance(scope.get(k), str) and scope[k]
                                                              for k in ("rank", "name"))):
            raise ValueError("scope must be an object with the text fields rank and name (and description)")
        if scope and scope["rank"] not in RANKS:
            raise ValueError(f"scope rank {scope['rank']!r} is not one of {', '.join(RANKS)}")
        thr = meta.get("in_scope_threshold")
        if thr is not None and not 0 <= float(thr) <= 1:  # NaN or 5 would silently mark every photo out of scope
            raise ValueError(f"in_scope_threshold {thr!r} is not a probability")
        return Bundle(
            name=str(meta.get("name") or folder.name), arch=meta["arch"], classes=classes,
            preprocess=Preprocess.from_dict(meta["preprocess"]), num_outputs=num_outputs,
            output_index=index, in_scope_threshold=None if thr is None else float(thr),
            history=list(meta.get("history") or []), run=dict(meta.get("run") or {}),
            provenance=dict(meta.get("provenance") or {}), metrics=dict(meta.get("metrics") or {}),
            calibration=dict(calibration), scope={k: str(v) for k, v in scope.items() if isinstance(v, (str, int, float))},
            default=bool(meta.get("default", False)), path=folder, expert=meta.get("expert") is True,
            weights_id=str(meta["weights_id"]) if meta.get("weights_id") else None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:  # OverflowError: int(Infinity)
        msg = f"missing field {e}" if isinstance(e, KeyError) else first_line(e)
        raise BundleError(f"{meta_file}: invalid bundle ({msg})") from None
