"""`python -m inat score`: a whole photo archive through Ray Data into a Parquet dataset, resumable.

    python -m inat score ~/camera-trap-2025 --out scores/           # a local Ray on this machine
    python -m inat score paths.txt --out scores/ --address HOST:6379 # the same job on a Ray cluster

SOURCE is a folder (walked like `predict --csv`: inat.observations.table.image_files), a photo, or a list of
paths (.txt: one a line; .csv: a `file` or `path` column, else the first; .parquet: the same columns);
relative paths in a list are relative to the list's folder. Ray Data streams the photos through a pool
of actors, each holding one Predictor (one model load per actor, photos decoded by inat.core.images through
it, batches through the same engine as `predict`); the driver writes the rows as Parquet part files.

RESULTS is a folder of `part-*.parquet` files: one row per photo with the `predict --csv` columns
(inat.observations.table.ALL_COLUMNS; `file` is the photo's absolute path), then `top_k` (the `--json`
predictions as a list of structs: polars `explode("top_k").unnest("top_k")`, pandas a list of dicts
a cell), `precision`, and the key `size`, `mtime_ns`. A photo that cannot be read is a row with its
`error`. Parts are written under a temporary name and renamed, so a killed run leaves only whole
parts; run the same command again and only photos whose (file, size, mtime_ns) is not in RESULTS are
scored. A photo changed since it was scored is scored again and its old row removed, so every photo
is there exactly once. `_score.json` records the model and --top: another model needs another RESULTS.
Read it with `pandas.read_parquet(RESULTS)` or `polars.read_parquet("RESULTS/*.parquet")`.

Ray is optional (requirements-scale.txt) and imported only here, inside functions. A local Ray listens
on the loopback interface only. On a cluster every node needs this package and the photos at the same
paths; the driver alone writes RESULTS.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..observations.table import ALL_COLUMNS, image_files, observation_rows

INSTALL = "pip install -r requirements-scale.txt"
LIST_SUFFIXES = (".txt", ".csv", ".parquet")   # a SOURCE with one of these is a list of paths
KEY = ("file", "size", "mtime_ns")             # what identifies a photo already scored
MANIFEST = "_score.json"                        # the model and --top of RESULTS (readers skip "_" files)
PART_ROWS = 5000        # a part file holds at most this many rows...
PART_SECONDS = 10.0     # ...and is written at least this often: a kill loses at most this much work
ACTORS_PER_NODE = 8     # model copies a node holds at most; a bigger node gives each actor more threads
                        # (on 2 cores two 1-thread actors beat one 2-thread actor: benchmarks/README.md)
ACTOR_CPU_SHARE = 0.5   # each actor asks Ray for this share of its threads, so Ray's own tasks still
                        # get CPUs (asking for every CPU starved them on 2 cores and the job hung)
FORWARD_BATCH = 16      # photos per forward pass inside an actor, as predict's --batch-size


# -- which photos ---------------------------------------------------------------------------------
def photo_paths(sources) -> list[str]:
    """The absolute paths of the photos named by SOURCEs (folders, photos, lists of paths), each once,
    in a stable order. A path that does not exist is kept so that its row can say so."""
    paths = []
    for source in sources:
        p = Path(source)
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            paths.extend(image_files(_read_list(p)))
        else:
            paths.extend(image_files([source]))
    return list(dict.fromkeys(os.path.abspath(p) for p in paths))


def _read_list(path: Path) -> list[str]:
    """The paths in a .txt/.csv/.parquet list, relative ones taken from the list's folder."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    elif suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header = rows[0] if rows else []
        col = next((header.index(c) for c in ("file", "path") if c in header), 0)
        names = [r[col] for r in rows[1:] if len(r) > col]
    else:
        import pyarrow.parquet as pq  # comes with ray[data]
        table = pq.read_table(path)
        col = next((c for c in ("file", "path") if c in table.column_names), table.column_names[0])
        names = [str(v) for v in table.column(col).to_pylist() if v is not None]
    return [str(path.parent / n) for n in names if n and not n.startswith("#")]


def photo_key(path: str) -> dict:
    """{file, size, mtime_ns} of a photo; size and mtime_ns are -1 for a path that cannot be stat'ed."""
    try:
        st = os.stat(path)
        return {"file": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    except OSError:
        return {"file": path, "size": -1, "mtime_ns": -1}


# -- the results folder ---------------------------------------------------------------------------
def schema():
    """The Parquet schema of every part file (one schema, so the parts read as one table)."""
    import pyarrow as pa
    text, num = pa.string(), pa.float64()
    types = {c: text for c in ALL_COLUMNS}
    types.update(latitude=num, longitude=num, probability=num, positional_accuracy=num,
                 species_guess_probability=num, taxon_id=pa.int64(), in_scope=pa.bool_())
    taxonomy = pa.struct([(k, text) for k in ("kingdom", "phylum", "class", "order", "family", "genus",
                                              "specific_epithet")])
    prediction = pa.struct([("class_id", pa.int64()), ("probability", num), ("scientific_name", text),
                            ("common_name", text), ("rank", text), ("taxonomy", taxonomy),
                            ("taxon_id", pa.int64()), ("model", text)])
    return pa.schema([(c, types[c]) for c in ALL_COLUMNS] + [
        ("top_k", pa.list_(prediction)), ("precision", text), ("size", pa.int64()), ("mtime_ns", pa.int64())])


def check_manifest(out: Path, model: str | None, top: int) -> None:
    """RESULTS holds one model's scores: MANIFEST records the model and --top on the first run, and a run
    with others is refused (its rows would mix with the first model's, and scored photos not redone)."""
    from ..models.registry import default_model
    want = {"model": str(model or default_model()), "top": int(top)}
    path = Path(out) / MANIFEST
    if path.is_file():
        have = json.loads(path.read_text(encoding="utf-8"))
        if have != want:
            raise ValueError(f"{out} holds the scores of --model {have['model']} --top {have['top']}, not "
                             f"--model {want['model']} --top {want['top']}: give another --out")
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(want) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def part_files(out: Path) -> list[Path]:
    return sorted(Path(out).glob("part-*.parquet"))


def read_keys(out: Path) -> dict[str, tuple[int, int, Path]]:
    """{file: (size, mtime_ns, part file)} of the rows already in RESULTS. Leftover temporary files of a
    killed run are removed (they were never renamed, so nothing counts them)."""
    import pyarrow.parquet as pq
    for tmp in Path(out).glob(".part-*.tmp"):
        tmp.unlink(missing_ok=True)
    keys = {}
    for part in part_files(out):
        t = pq.read_table(part, columns=list(KEY))
        for f, s, m in zip(*(t.column(c).to_pylist() for c in KEY)):
            keys[f] = (s, m, part)
    return keys


def drop_stale(keys: dict, current: list[dict]) -> int:
    """Remove from their part files the rows of photos that changed since they were scored (same file,
    another size or mtime), rewriting each such part atomically. Returns how many rows went."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    stale = {}
    for k in current:
        old = keys.get(k["file"])
        if old is not None and old[:2] != (k["size"], k["mtime_ns"]):
            stale.setdefault(old[2], set()).add(k["file"])
            del keys[k["file"]]
    for part, files in stale.items():
        table = pq.read_table(part)
        kept = table.filter(pc.invert(pc.is_in(table.column("file"), value_set=_array(sorted(files)))))
        if kept.num_rows:
            _write_atomic(kept, part)
        else:
            part.unlink()
    return sum(len(f) for f in stale.values())


def _array(values):
    import pyarrow as pa
    return pa.array(values, pa.string())


def _write_atomic(table, path: Path) -> None:
    import pyarrow.parquet as pq
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class PartWriter:
    """Collects result tables and writes them as part files: every PART_ROWS rows or PART_SECONDS."""

    def __init__(self, out: Path, part_rows: int | None = None, part_seconds: float | None = None):
        self.out = Path(out)
        self.part_rows = PART_ROWS if part_rows is None else part_rows
        self.part_seconds = PART_SECONDS if part_seconds is None else part_seconds
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"  # parts sort by run
        self.pending, self.rows, self.written, self.last = [], 0, 0, time.monotonic()

    def add(self, table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.part_rows or time.monotonic() - self.last >= self.part_seconds:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        if self.rows:
            table = pa.concat_tables(self.pending).cast(schema())
            _write_atomic(table, self.out / f"part-{self.run}-{self.written:05d}.parquet")
            self.written += 1
        self.pending, self.rows, self.last = [], 0, time.monotonic()


# -- the actors -----------------------------------------------------------------------------------
class Scorer:
    """A Ray Data actor: one Predictor, loaded once; a batch of photo keys in, a table of rows out."""

    def __init__(self, model: str | None, top: int, threads: int | None):
        from ..runtime.export import make_fast
        from .predict import Predictor
        # prepare=make_fast: the fast version predict makes, once, before predicting
        self.predictor = Predictor(model, threads=threads, prepare=make_fast)
        self.top = top

    def __call__(self, batch):
        import pyarrow as pa
        keys = batch.to_pylist()
        records = self.predictor.predict([k["file"] for k in keys], k=self.top, batch_size=FORWARD_BATCH)
        engine_precision = getattr(self.predictor.engine, "precision", None)
        rows = []
        for key, record, row in zip(keys, records, observation_rows([r.to_json() for r in records])):
            data = record.to_json()
            row.update(top_k=data["predictions"], size=key["size"], mtime_ns=key["mtime_ns"],
                       precision=None if record.error else
                       getattr(record, "precision", None) or data.get("precision") or engine_precision)
            rows.append(row)
        return pa.Table.from_pylist(rows, schema=schema())


@dataclass(frozen=True)
class Pool:
    actors: int      # how many Scorers
    threads: int     # network threads each
    cpus: float      # CPUs each asks Ray for


def pool_size(node_cpus: list[float], workers: int | None = None) -> Pool:
    """The actor pool for nodes with these CPU counts: one network thread an actor, more on nodes with over
    ACTORS_PER_NODE cores (the smallest node decides), as many actors as the nodes' cores hold (at least one
    a node), each asking Ray for ACTOR_CPU_SHARE of its threads. `workers` fixes the number of actors."""
    cpus = [c for c in node_cpus if c > 0] or [1.0]
    threads = max(1, math.ceil(min(cpus) / ACTORS_PER_NODE))
    actors = workers or sum(max(1, int(c // threads)) for c in cpus)
    ask = min(ACTOR_CPU_SHARE * threads, sum(cpus) / actors)  # never more than the cluster has
    return Pool(actors, threads, ask)


def import_ray(address: str | None = None):
    """The ray module with Ray Data (ImportError when requirements-scale.txt is not installed). Without a
    cluster address, or with a loopback one, Ray is first told that this machine is the whole cluster:
    it then listens on the loopback interface only (otherwise on the machine's network address, even for
    a local Ray). Ray reads that setting when first imported."""
    address = address or os.environ.get("RAY_ADDRESS")
    if not address or address.rsplit(":", 1)[0] in ("127.0.0.1", "localhost"):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray  # optional dependency: requirements-scale.txt
    import ray.data  # noqa: F401
    return ray


def start_ray(address: str | None):
    """ray, connected: to `address` (or RAY_ADDRESS) when given, else a new local Ray on the loopback
    interface only. An already initialised Ray (a test's) is used as it is."""
    ray = import_ray(address)
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, logging_level="ERROR")
    for handler in logging.getLogger("ray.data").handlers:  # its console lines; its log file keeps them all
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.ERROR)  # our bar says what is done
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # our own bar counts photos
    context.print_on_execution_start = False
    return ray


def node_cpus(ray) -> list[float]:
    return [n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")]


# -- the job --------------------------------------------------------------------------------------
def score(sources, out, *, model: str | None = None, top: int = 5, batch: int = 64, workers: int | None = None,
          address: str | None = None, progress: bool = True) -> dict:
    """Score the photos of `sources` not yet in the Parquet folder `out`; returns {total, already, scored,
    failed, seconds, photos_per_s, steady_photos_per_s, actors}. Raises ImportError when Ray is not installed."""
    import_ray(address)  # fail before any work when the optional dependency is missing
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_manifest(out, model, top)
    current = [photo_key(p) for p in photo_paths(sources)]
    keys = read_keys(out)
    drop_stale(keys, current)
    todo = [k for k in current if k["file"] not in keys]
    summary = {"total": len(current), "already": len(current) - len(todo), "scored": 0, "failed": 0}
    start = time.monotonic()
    if todo:
        ray = start_ray(address)
        pool = pool_size(node_cpus(ray), workers)
        summary["actors"] = min(pool.actors, math.ceil(len(todo) / max(1, int(batch))))
        summary.update(_run(ray, todo, out, pool, model, top, batch, summary["already"], len(current), progress))
    seconds = time.monotonic() - start
    summary.update(seconds=round(seconds, 2), photos_per_s=round(summary["scored"] / seconds, 2) if seconds else None)
    return summary


def _run(ray, todo, out, pool: Pool, model, top, batch, already, total, progress) -> dict:
    from tqdm import tqdm
    batch = max(1, int(batch))
    blocks = max(1, math.ceil(len(todo) / batch))
    ds = ray.data.from_items(todo, override_num_blocks=blocks)
    ds = ds.map_batches(Scorer, fn_constructor_kwargs=dict(model=model, top=top, threads=pool.threads),
                        batch_size=batch, batch_format="pyarrow", num_cpus=pool.cpus,
                        compute=ray.data.ActorPoolStrategy(size=min(pool.actors, blocks)))  # no idle model loads
    writer, scored, failed, first = PartWriter(out), 0, 0, None
    with tqdm(total=total, initial=already, unit="photo", desc="scoring", file=sys.stderr,
              dynamic_ncols=True, disable=not progress, leave=False) as bar:
        for table in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            first = first or (time.monotonic(), table.num_rows)  # when the actors' start-up is over
            writer.add(table)
            scored += table.num_rows
            failed += table.num_rows - table.column("error").null_count
            bar.update(table.num_rows)
    writer.flush()
    seconds = time.monotonic() - first[0] if first else 0
    # The rate once the actors run (Ray's start and the model loads left out), for the benchmark.
    steady = round((scored - first[1]) / seconds, 2) if seconds > 0 and scored > first[1] else None
    return {"scored": scored, "failed": failed, "steady_photos_per_s": steady}
