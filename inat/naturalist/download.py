"""`python -m inat download`: install an expert model from its public source, checked and converted.

    python -m inat download --list
    python -m inat download inat2017-birds                      # from the internet
    python -m inat download inat2017-birds --from DIR           # from a folder holding the same files

Every file is checked against the checksum pinned in `inat.naturalist.experts` before anything is converted;
the bundle is assembled in a hidden temporary folder beside the target and renamed into place, so
an interrupted or failed install leaves no half-written model behind. This command is the only
code in the project that fetches anything from the network.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..core.errors import first_line
from ..models.bundle import JSON_NAME, BundleError, load_bundle
from ..models.registry import weights_dir
from ..models.tflite_reader import TFLiteError
from .expert_bundle import ExpertError, build_expert_bundle
from .experts import BASE_URL, EXPERTS, LICENCE, Expert, SourceFile, get_expert

CHUNK = 1 << 20
MAX_BYTES = 64 << 20   # no expert comes near this: a larger answer is not the file we pinned
TIMEOUT_S = 60


class DownloadError(RuntimeError):
    """Why an install did not happen, in one line that says what to do next."""


# -- checksums ---------------------------------------------------------------------------------------
class Digests:
    """sha256 and git's blob id of one stream of bytes, fed in chunks (the blob id needs the size up front)."""

    def __init__(self, size: int):
        self.sha256 = hashlib.sha256()
        self.blob = hashlib.sha1(f"blob {size}\0".encode())  # git hashes "blob <size>\0" + content
        self.size, self.seen = size, 0

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.blob.update(chunk)
        self.seen += len(chunk)

    def git_blob(self) -> str | None:
        return self.blob.hexdigest() if self.seen == self.size else None


def file_digests(path: Path) -> dict:
    """{"sha256": hex, "git_blob": hex, "size": bytes} of a file on disk."""
    size = path.stat().st_size
    d = Digests(size)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            d.update(chunk)
    return {"sha256": d.sha256.hexdigest(), "git_blob": d.git_blob(), "size": size}


def git_blob_id(path: str | os.PathLike) -> str:
    """git's object id of a file's bytes (`git hash-object FILE`): SHA-1 of "blob <size>\\0" + bytes."""
    return file_digests(Path(path))["git_blob"]


def check_pin(sf: SourceFile, digests: dict, where: str) -> None:
    """Raise DownloadError unless the file matches every checksum `sf` pins (it must pin at least one)."""
    pins = [(kind, want) for kind, want in (("sha256", sf.sha256), ("git_blob", sf.git_blob)) if want]
    if not pins:
        raise DownloadError(f"{sf.name}: no checksum pinned in inat/naturalist/experts.py; refusing to use it")
    for kind, want in pins:
        got = digests.get(kind)
        if got != want:
            label = "sha256" if kind == "sha256" else "git blob id"
            raise DownloadError(
                f"{where}: {label} {str(got)[:12]}… does not match the pinned {want[:12]}… (a different or "
                f"damaged file); nothing was installed — fetch it again from {sf.url}")


# -- getting the files -------------------------------------------------------------------------------
def _bar(total: int | None, desc: str, show: bool):
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
                disable=not show, file=sys.stderr)


def _copy_stream(read, size: int | None, dest: Path, desc: str, show: bool) -> dict:
    """Write what `read(n)` yields to `dest`, hashing on the way. Returns file_digests' record."""
    digests = Digests(size) if size is not None else None
    total = 0
    with open(dest, "wb") as out, _bar(size, desc, show) as bar:
        while chunk := read(CHUNK):
            total += len(chunk)
            if total > MAX_BYTES:
                raise DownloadError(f"{desc}: more than {MAX_BYTES >> 20} MB, not the pinned file; "
                                    "nothing was installed")
            try:
                out.write(chunk)
            except OSError as e:  # a full disk is not a network problem: say which it is
                raise DownloadError(f"cannot write {dest} ({e.strerror or e.__class__.__name__}); "
                                    "nothing was installed") from None
            if digests is not None:
                digests.update(chunk)
            bar.update(len(chunk))
    if digests is None or total != size:  # no length, or a wrong one, announced: hash the file as written
        return file_digests(dest)
    return {"sha256": digests.sha256.hexdigest(), "git_blob": digests.git_blob(), "size": total}


def fetch(sf: SourceFile, dest_dir: Path, source_dir: Path | None = None, show: bool = True) -> tuple[Path, dict]:
    """Copy `sf` from `source_dir`, or download it from its URL, into `dest_dir`, and check its pins.

    Returns (path, digests). Raises DownloadError (one line) when the file is missing, the network
    cannot be reached, or the bytes are not the pinned ones.
    """
    dest = dest_dir / sf.name
    if source_dir is not None:
        src = source_dir / sf.name
        if not src.is_file():
            raise DownloadError(f"{src}: no such file; the --from folder must hold the files the source "
                                f"repository names ({sf.name}; see python -m inat download --list)")
        with open(src, "rb") as f:
            digests = _copy_stream(f.read, src.stat().st_size, dest, sf.name, show)
        check_pin(sf, digests, str(src))
        return dest, digests
    host = sf.url.split("/")[2]
    try:
        with urllib.request.urlopen(sf.url, timeout=TIMEOUT_S) as r:
            length = r.headers.get("Content-Length")
            digests = _copy_stream(r.read, int(length) if length and length.isdigit() else None, dest, sf.name, show)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{sf.url}: HTTP {e.code} {e.reason}; nothing was installed — the file may have "
                            f"moved: fetch it by hand and use --from DIR") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e.__class__.__name__
        raise DownloadError(f"cannot reach {host} ({reason}); nothing was installed — check the internet "
                            f"connection, or copy the files into a folder and run with --from DIR") from None
    check_pin(sf, digests, sf.url)
    return dest, digests


# -- installing ----------------------------------------------------------------------------------------
def default_target(name: str) -> Path:
    """Where `download NAME` installs: the weights folder (honours INAT_WEIGHTS)."""
    return weights_dir() / name


def is_installed(target: Path) -> bool:
    return (target / JSON_NAME).is_file()


def install(name: str, source_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
            force: bool = False, command: str | None = None, show: bool = True) -> tuple[str, Path]:
    """Fetch, check, convert and install expert `name`. Returns ("installed" | "already installed", folder).

    Raises DownloadError / ValueError with one line; on any failure the target is left as it was and
    the temporary folder is removed.
    """
    try:
        expert = get_expert(name)
    except ValueError as e:
        raise DownloadError(str(e)) from None
    target = Path(out) if out else default_target(name)
    if is_installed(target) and not force:
        return "already installed", target
    if target.exists() and not is_installed(target) and (not target.is_dir() or any(target.iterdir())):
        raise DownloadError(f"{target}: exists and is not a model bundle; choose another --out")
    source = Path(source_dir) if source_dir is not None else None
    if source is not None and not source.is_dir():
        raise DownloadError(f"{source}: no such folder (--from takes a folder holding the source files)")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target)
    # Same file system as the target, so the final rename is atomic; hidden and two levels deep, so
    # nothing that lists bundles ever mistakes it for one.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        src_dir = tmp / "source"
        src_dir.mkdir()
        sha = {}
        for sf in expert.files:
            _, d = fetch(sf, src_dir, source, show)
            sha[sf.name] = d["sha256"]
        staged = tmp / "bundle"
        _convert(expert, src_dir, staged, sha, command)
        shutil.copyfile(src_dir / expert.licence_file.name, staged / "LICENSE")
        os.chmod(staged / "LICENSE", 0o644)
        previous = tmp / "previous"
        if target.exists():  # --force, or an empty folder given as --out
            os.replace(target, previous)
        try:
            os.replace(staged, target)
        except OSError:
            if previous.exists():
                os.replace(previous, target)  # put the old install back
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "installed", target


def _remove_stale_partials(target: Path, age_s: float = 3600) -> None:
    """Delete what killed installs of `target` left (hidden *.partial folders), once they are an hour old:
    a younger one may belong to an install running right now."""
    for old in target.parent.glob(f".{target.name}.*.partial"):
        try:
            if old.is_dir() and time.time() - old.stat().st_mtime > age_s:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _convert(expert: Expert, src: Path, staged: Path, sha: dict, command: str | None) -> None:
    try:
        build_expert_bundle(expert, src, staged, sha256=sha, command=command)
        load_bundle(staged).load_model()  # the installed bundle must load as any other would
    except (TFLiteError, ExpertError, BundleError) as e:
        raise DownloadError(f"{expert.name}: conversion failed ({first_line(e)}); nothing was installed") from None


# -- the catalogue as a table --------------------------------------------------------------------------
def catalogue_rows() -> list[dict]:
    """One record per expert: name, species, source URL, licence, download size (None: not pinned),
    installed folder (None: not installed) and measured accuracy (None: never measured by us)."""
    rows = []
    for e in EXPERTS.values():
        target = default_target(e.name)
        sizes = [f.size for f in e.files]
        rows.append({"name": e.name, "species": e.species, "source": e.model.url, "licence": LICENCE,
                     "download_bytes": sum(sizes) if None not in sizes else None,
                     "installed": str(target) if is_installed(target) else None, "accuracy": e.accuracy or None})
    return rows


def format_catalogue(rows: list[dict]) -> str:
    """The --list table, then where the files come from."""
    lines = [f"{'name':<18} {'species':>7}  {'download':>8}  {'licence':<10}  {'installed':<9}  accuracy"]
    for r in rows:
        size = f"{r['download_bytes'] / 1e6:.1f} MB" if r["download_bytes"] else "?"
        acc = r["accuracy"]
        acc_text = (f"known-species top-1 {100 * acc['top1']:.1f} % on {acc['data']}" if acc
                    else "not measured by us")
        lines.append(f"{r['name']:<18} {r['species']:>7}  {size:>8}  {r['licence']:<10}  "
                     f"{'yes' if r['installed'] else 'no':<9}  {acc_text}")
    lines.append(f"source: {BASE_URL}<file>, files checked against checksums pinned in inat/naturalist/experts.py "
                 f"(? = size not pinned: that file is pinned by its git blob id only)")
    return "\n".join(lines)
