"""`python -m inat score`: which photos, the pool, the Parquet parts, and real runs on a local Ray.

The Ray tests share one local Ray (module fixture, 2 CPUs, loopback only) and the built-in starter;
they skip without Ray (requirements-scale.txt) or ../shared/data. The kill test (integration) runs the
driver in its own process, joined to that Ray, and SIGKILLs it just before its third part file is renamed;
the cluster test (integration) starts two one-CPU nodes on the loopback interface.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest
from conftest import REPO, shared

from inat.identify.score import Pool, photo_key, photo_paths, pool_size

N_PHOTOS = 8


# -- no Ray needed ----------------------------------------------------------------------------------
def test_pool_fits_the_nodes_and_leaves_cpus_to_ray():
    assert pool_size([2.0]) == Pool(actors=2, threads=1, cpus=0.5)  # 2 cores: two actors asking for one in all
    assert pool_size([1.0, 1.0]) == Pool(actors=2, threads=1, cpus=0.5)  # one actor a node
    assert pool_size([64.0]) == Pool(actors=8, threads=8, cpus=4.0)  # at most 8 model copies a node
    assert pool_size([16.0, 4.0]) == Pool(actors=20, threads=1, cpus=0.5)  # the smallest node decides
    assert pool_size([2.0], workers=4) == Pool(actors=4, threads=1, cpus=0.5)
    assert pool_size([2.0], workers=8) == Pool(actors=8, threads=1, cpus=0.25)  # never more than the cluster has
    assert pool_size([]) == Pool(actors=1, threads=1, cpus=0.5)


def test_sources_are_folders_photos_and_lists(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/1.jpg", "a/b/2.png", "a/notes.md", "3.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "list.txt").write_text("3.jpg\n# a comment\n\na/1.jpg\n", encoding="utf-8")
    (tmp_path / "list.csv").write_text("id,file\n1,3.jpg\n2,gone.jpg\n", encoding="utf-8")
    paths = photo_paths([tmp_path / "a", tmp_path / "list.txt", tmp_path / "list.csv"])
    assert paths == [str(tmp_path / p) for p in ("a/1.jpg", "a/b/2.png", "3.jpg", "gone.jpg")]  # each once
    assert photo_key(str(tmp_path / "gone.jpg")) == {"file": str(tmp_path / "gone.jpg"), "size": -1, "mtime_ns": -1}
    assert photo_key(str(tmp_path / "3.jpg"))["size"] == 1


def test_a_parquet_list_names_photos_too(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"path": ["x.jpg", "/abs/y.jpg"]}), tmp_path / "list.parquet")
    assert photo_paths([tmp_path / "list.parquet"]) == [str(tmp_path / "x.jpg"), "/abs/y.jpg"]


def test_without_ray_score_says_how_to_install_it(monkeypatch, capsys):
    from inat.cli.main import main
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    assert main(["score", "photos/", "--out", "results/"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: score needs Ray Data: pip install -r requirements-scale.txt"]


# -- a local Ray --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_session():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only, as inat.identify.score starts it
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """N_PHOTOS real photos (one geotagged), a damaged one and a missing one: (folder, list of paths)."""
    from inat.testing.photos import add_exif_to_jpeg, exif_block
    val = shared("data/inat21-plants47/val")
    picked = sorted(val.glob("*/*.jpg"))[::59][:N_PHOTOS]
    folder = tmp_path_factory.mktemp("archive")
    for i, src in enumerate(picked):
        if i == 0:
            add_exif_to_jpeg(src, folder / "geo.jpg", exif_block("2024:05:04 09:15:30", "-07:00", 37.0447, -122.1072))
        else:
            shutil.copy(src, folder / f"{i:02d}.jpg")
    (folder / "damaged.jpg").write_bytes((folder / "01.jpg").read_bytes()[:300])
    (folder / "list.txt").write_text("\n".join([*sorted(p.name for p in folder.glob("*.jpg")), "missing.jpg"]))
    return folder


def _table(out):
    import pyarrow.parquet as pq
    return pq.read_table(out).to_pandas()


def _value(v):
    """A cell as plain Python: pandas' NaN and None both → None."""
    return None if v is None or v != v else v


@pytest.mark.shared
def test_score_gives_predicts_csv_rows_and_a_row_for_each_damaged_file(ray_session, photos, tmp_path):
    from inat.identify.predict import Predictor
    from inat.identify.score import score
    from inat.observations.table import ALL_COLUMNS, observation_rows
    out = tmp_path / "results"
    s = score([photos / "list.txt"], out, model="starter", top=3, batch=4, progress=False)
    assert (s["total"], s["already"], s["scored"], s["failed"]) == (N_PHOTOS + 2, 0, N_PHOTOS + 2, 2)
    df = _table(out).set_index("file")
    assert list(df.reset_index().columns[:len(ALL_COLUMNS)]) == list(ALL_COLUMNS)
    assert {"top_k", "precision", "size", "mtime_ns"} <= set(df.columns)
    paths = [str(p) for p in sorted(photos.glob("*.jpg"))] + [str(photos / "missing.jpg")]
    assert sorted(df.index) == sorted(paths)  # absolute paths, each once
    records = [r.to_json() for r in Predictor("starter").predict(paths, k=3)]
    for record, expected in zip(records, observation_rows(records)):  # what predict --csv writes
        row = df.loc[record["image"]]
        for column in ("scientific_name", "taxon_rank", "taxon_id", "observed_on", "place_guess", "latitude",
                       "species_guess", "error"):
            assert _value(row[column]) == expected[column], (record["image"], column)
        assert _value(row["probability"]) == pytest.approx(expected["probability"], abs=1e-4)
        names = [p["scientific_name"] for p in row["top_k"]]  # an error row has an empty list
        assert names == [p["scientific_name"] for p in record["predictions"]]
        assert (_value(row["precision"]) is None) == bool(record["error"])
    assert df.loc[str(photos / "geo.jpg"), "observed_on"] == "2024-05-04"
    assert df.loc[str(photos / "damaged.jpg"), "error"].startswith("damaged.jpg: ")
    assert "no such file" in df.loc[str(photos / "missing.jpg"), "error"]


# The driver in its own process, SIGKILLed just before its KILL_AT-th os.replace (a part file's rename).
DRIVER = r"""
import os, signal, sys
import inat.identify.score
inat.identify.score.PART_ROWS = 2          # a part for every batch of two photos
KILL_AT = int(os.environ["KILL_AT"])
calls = [0]
real_replace = os.replace
def replace(src, dst):
    calls[0] += 1
    if calls[0] == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)
os.replace = replace
from inat.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.integration  # the driver runs in its own process
@pytest.mark.shared
def test_a_killed_run_resumes_without_rescoring_or_losing_a_photo(ray_session, photos, tmp_path):
    from inat.identify.score import score
    out = tmp_path / "results"
    env = {**os.environ, "KILL_AT": "4", "PYTHONPATH": str(REPO)}  # the manifest, two parts, then the kill
    address = ray_session.get_runtime_context().gcs_address
    done = subprocess.run([sys.executable, "-c", DRIVER, "score", str(photos), "--out", str(out), "--model",
                           "starter", "--batch", "2", "--workers", "1", "--address", address],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    parts = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.glob("part-*.parquet")}
    assert len(parts) == 2 and len(list(out.glob(".part-*.tmp"))) == 1  # two whole parts, one never renamed
    kept = len(_table(out))
    s = score([photos], out, model="starter", batch=4, progress=False)
    assert (s["already"], s["scored"]) == (kept, N_PHOTOS + 1 - kept)  # nothing rescored
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in parts} == parts  # written parts untouched
    assert not list(out.glob(".part-*.tmp"))
    df = _table(out)
    assert len(df) == N_PHOTOS + 1 and df["file"].is_unique
    assert score([photos], out, model="starter", progress=False)["scored"] == 0
    with pytest.raises(ValueError, match="holds the scores of --model starter --top 5"):
        score([photos], out, model="naturalist", progress=False)  # one model a RESULTS folder


@pytest.mark.shared
def test_a_changed_photo_is_scored_again_and_keeps_one_row(ray_session, photos, tmp_path):
    from inat.identify.score import score
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    out = tmp_path / "results"
    score([folder], out, model="starter", batch=4, progress=False)
    before = _table(out).set_index("file")
    photo = folder / "02.jpg"
    photo.write_bytes((folder / "03.jpg").read_bytes())  # another photo under the same name
    s = score([folder], out, model="starter", batch=4, progress=False)
    assert (s["already"], s["scored"]) == (N_PHOTOS, 1)
    after = _table(out).set_index("file")
    assert len(after) == N_PHOTOS + 1 and after.index.is_unique
    assert after.loc[str(photo), "size"] == (folder / "03.jpg").stat().st_size != before.loc[str(photo), "size"]
    assert after.loc[str(photo), "species_guess"] == after.loc[str(folder / "03.jpg"), "species_guess"]


# Keeps a Ray cluster of two one-CPU nodes on this machine (loopback only) until stdin closes; prints its address.
CLUSTER = r"""
import sys
from ray.cluster_utils import Cluster
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()
cluster.shutdown()
"""


@pytest.mark.integration
@pytest.mark.shared
def test_a_two_node_cluster_gives_the_local_runs_rows(ray_session, photos, tmp_path):
    from inat.identify.score import score
    score([photos], tmp_path / "local", model="starter", progress=False)
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", CLUSTER], cwd=REPO, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        address = holder.stdout.readline().strip()
        assert address.startswith("127.0.0.1:"), address
        done = subprocess.run([sys.executable, "-m", "inat", "score", str(photos), "--out", str(tmp_path / "cluster"),
                               "--model", "starter", "--address", address], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
    finally:
        holder.stdin.close()
        holder.wait(timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]  # 1: the damaged photo's row has an error
    columns = ["file", "scientific_name", "taxon_rank", "species_guess", "probability", "error"]
    local = _table(tmp_path / "local")[columns].sort_values("file").reset_index(drop=True)
    cluster = _table(tmp_path / "cluster")[columns].sort_values("file").reset_index(drop=True)
    assert len(cluster) == N_PHOTOS + 1
    assert cluster.equals(local)
