"""`python -m inat download`: pins, the install flow, its one-line failures, and nothing half-written.

The flow is tested on a stand-in expert (small files pinned here, a fast stand-in conversion), so it
needs neither the network nor ../shared; tests/test_experts.py converts the real files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import urllib.error
from pathlib import Path

import pytest

from inat.cli import download as download_cli
from inat.cli.main import main
from inat.naturalist import download
from inat.naturalist.experts import EXPERTS, SourceFile

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "models" / "coral-inat2017"
REAL_CONVERT = download._convert


def _pinned(folder: Path, name: str, data: bytes) -> SourceFile:
    (folder / name).write_bytes(data)
    return SourceFile(name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


@pytest.fixture
def fake_expert(tmp_path, monkeypatch):
    """A catalogue entry `fake-expert` whose three files sit, pinned, in tmp_path/'mirror'."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    expert = dataclasses.replace(
        EXPERTS["inat2017-birds"], name="fake-expert",
        model=_pinned(mirror, "fake.tflite", b"not really a model"),
        labels=_pinned(mirror, "fake_labels.txt", b"Corvus corax (Common Raven)\nbackground\n"),
        licence_file=_pinned(mirror, "LICENSE", b"licence text\n"), species=1)
    monkeypatch.setitem(EXPERTS, "fake-expert", expert)
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "weights"))
    return expert, mirror


@pytest.fixture
def fast_convert(monkeypatch):
    """Replace the conversion by one that writes a small stamped file: the flow, not the network, is tested."""
    calls = []

    def convert(expert, src, staged, sha, command):
        staged.mkdir()
        (staged / "bundle.json").write_text(f'{{"run": {len(calls)}}}')
        calls.append(sha)
    monkeypatch.setattr(download, "_convert", convert)
    monkeypatch.setattr(download_cli, "ensure_export", lambda bundle: None)   # a stand-in bundle has no network
    monkeypatch.setattr(download_cli, "load_bundle", lambda folder: folder)
    return calls


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["download", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# -- checksums ------------------------------------------------------------------------------------------
def test_git_blob_id_matches_git_hash_object(tmp_path):
    # `printf 'hello\n' | git hash-object --stdin` and the empty blob, as git itself gives them.
    (tmp_path / "hello").write_bytes(b"hello\n")
    (tmp_path / "empty").write_bytes(b"")
    assert download.git_blob_id(tmp_path / "hello") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert download.git_blob_id(tmp_path / "empty") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@pytest.mark.parametrize("name", ["inat2017-birds", "inat2017-insects"])
def test_git_blob_id_of_the_real_experts_matches_the_repository_tree(name):
    sf = EXPERTS[name].model
    if not (MIRROR / sf.name).is_file():
        pytest.skip("../shared/models/coral-inat2017 not present")
    d = download.file_digests(MIRROR / sf.name)
    assert (d["git_blob"], d["sha256"]) == (sf.git_blob, sf.sha256)


def test_plants_pin_refuses_a_wrong_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "weights"))
    src = tmp_path / "src"
    src.mkdir()
    (src / EXPERTS["inat2017-plants"].model.name).write_bytes(b"TFL3" * 1000)  # the model is checked first
    rc, out, err = _run(capsys, "inat2017-plants", "--from", str(src))
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and "git blob id" in err and "85737c16869a" in err and "nothing was installed" in err
    assert _leftovers(tmp_path / "weights") == []


def test_every_file_of_every_expert_is_pinned():
    for e in EXPERTS.values():
        for f in e.files:
            assert f.sha256 or f.git_blob, f.name
            assert f.url.startswith("https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e6620")


# -- the flow -----------------------------------------------------------------------------------------
def test_offline_without_from_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INAT_WEIGHTS", str(tmp_path / "weights"))

    def offline(*a, **k):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr("urllib.request.urlopen", offline)
    rc, out, err = _run(capsys, "inat2017-birds")
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: cannot reach raw.githubusercontent.com")
    assert "--from DIR" in err and "Traceback" not in err
    assert _leftovers(tmp_path / "weights") == []


def test_missing_file_in_from_folder_is_one_line(fake_expert, capsys, fast_convert):
    expert, mirror = fake_expert
    (mirror / "fake_labels.txt").unlink()
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror))
    assert rc == 1 and err.count("\n") == 1 and "fake_labels.txt: no such file" in err
    assert fast_convert == [] and _leftovers(Path(download.default_target("x")).parent) == []


def test_checksum_mismatch_refuses_and_leaves_nothing(fake_expert, capsys, fast_convert):
    expert, mirror = fake_expert
    (mirror / "fake.tflite").write_bytes(b"not really a model, changed")
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror))
    assert rc == 1 and err.count("\n") == 1 and "sha256" in err and "does not match the pinned" in err
    assert fast_convert == [] and _leftovers(Path(download.default_target("x")).parent) == []


def test_second_run_says_installed_and_force_reinstalls(fake_expert, capsys, fast_convert):
    expert, mirror = fake_expert
    target = download.default_target("fake-expert")
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror))
    assert rc == 0 and out.startswith("installed fake-expert in"), err
    assert (target / "bundle.json").read_text() == '{"run": 0}'
    assert (target / "LICENSE").read_bytes() == b"licence text\n"
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror))
    assert rc == 0 and "already installed" in out and "--force" in out and len(fast_convert) == 1
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror), "--force")
    assert rc == 0 and out.startswith("installed") and (target / "bundle.json").read_text() == '{"run": 1}'
    assert _leftovers(target.parent) == ["fake-expert"]  # no temporary or previous folder left behind


def test_out_must_not_be_someone_elses_folder(fake_expert, capsys, fast_convert, tmp_path):
    expert, mirror = fake_expert
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror), "--out", str(tmp_path / "photos"), "--force")
    assert rc == 1 and "is not a model bundle" in err and (tmp_path / "photos" / "a.jpg").is_file()


def test_failed_conversion_leaves_nothing_half_written(fake_expert, capsys):
    # The real conversion on a file that passes its pin but is no TFLite model.
    expert, mirror = fake_expert
    target = download.default_target("fake-expert")
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror))
    assert rc == 1 and err.count("\n") == 1 and "conversion failed" in err and "nothing was installed" in err
    assert not target.exists() and _leftovers(target.parent) == []


def test_failed_conversion_of_a_truncated_tflite_keeps_the_old_install(fake_expert, capsys, fast_convert, monkeypatch):
    real = MIRROR / EXPERTS["inat2017-birds"].model.name
    if not real.is_file():
        pytest.skip("../shared/models/coral-inat2017 not present")
    expert, mirror = fake_expert
    assert _run(capsys, "fake-expert", "--from", str(mirror))[0] == 0  # a first install (stand-in conversion)
    target = download.default_target("fake-expert")
    before = (target / "bundle.json").read_text()
    # A download cut short at 1 MB, pinned as if it were genuine: the real conversion must fail cleanly.
    short = _pinned(mirror, expert.model.name, real.read_bytes()[:1_000_000])
    monkeypatch.setitem(EXPERTS, "fake-expert", dataclasses.replace(expert, model=short))
    monkeypatch.setattr(download, "_convert", REAL_CONVERT)
    rc, out, err = _run(capsys, "fake-expert", "--from", str(mirror), "--force")
    assert rc == 1 and err.count("\n") == 1 and "conversion failed" in err
    assert (target / "bundle.json").read_text() == before and _leftovers(target.parent) == ["fake-expert"]


def test_list_shows_every_expert_and_what_is_installed(fake_expert, capsys, fast_convert):
    expert, mirror = fake_expert
    rc, out, err = _run(capsys, "--list")
    assert rc == 0
    lines = out.splitlines()
    for name, species in [("inat2017-birds", "964"), ("inat2017-insects", "1021"), ("inat2017-plants", "2101")]:
        row = next(ln for ln in lines if ln.startswith(name))
        assert species in row.split() and "Apache-2.0" in row and " no " in row
    assert "not measured by us" in next(ln for ln in lines if ln.startswith("inat2017-plants"))
    assert "raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41" in out
    assert _run(capsys, "fake-expert", "--from", str(mirror))[0] == 0
    rc, out, err = _run(capsys, "--list")
    assert " yes " in next(ln for ln in out.splitlines() if ln.startswith("fake-expert"))


def test_the_list_and_the_readme_quote_the_same_measurement(capsys):
    # `download --list` said 85.4 % for the bird expert (one benchmark) and the README 85.6 % (another); the README
    # never named inat2017-plants, which --list offers.
    rc, out, err = _run(capsys, "--list")
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    measured = json.loads((REPO / "benchmarks" / "results" / "open_world.json").read_text())["results"]
    for e in EXPERTS.values():
        row = next((ln for ln in readme if ln.startswith(f"| `{e.name}`")), None)
        assert row is not None, f"{e.name} is missing from the README's model table"
        listed = next(ln for ln in out.splitlines() if ln.startswith(e.name))
        if not e.accuracy:
            assert "unmeasured" in row and "not measured by us" in listed
            continue
        figure = f"top-1 {100 * e.accuracy['top1']:.1f} % on {e.accuracy['data']}"
        assert figure in row and figure in listed, (row, listed)
        run = next(r for r in measured if r["model"] == e.name and r["collection"] == e.accuracy["data"])
        assert (e.accuracy["n_known"], e.accuracy["top1"], e.accuracy["top5"]) == \
            (run["n_known"], round(run["top1"], 4), round(run["top5"], 4)), e.name


def test_unknown_name_and_no_name_are_one_line(capsys):
    rc, out, err = _run(capsys, "inat2017-fish")
    assert rc == 1 and err.count("\n") == 1 and "inat2017-birds" in err
    rc, out, err = _run(capsys)
    assert rc == 1 and err.count("\n") == 1 and "--list" in err


def test_a_killed_install_is_cleaned_up_by_the_next_one(fake_expert, capsys, fast_convert):
    import os
    expert, mirror = fake_expert
    weights = Path(download.default_target("fake-expert")).parent
    stale, fresh = weights / ".fake-expert.abc.partial", weights / ".fake-expert.def.partial"
    for d in (stale, fresh):
        (d / "bundle").mkdir(parents=True)
    os.utime(stale, (0, 0))  # killed long ago; `fresh` may be an install running now
    assert _run(capsys, "fake-expert", "--from", str(mirror))[0] == 0
    assert _leftovers(weights) == [".fake-expert.def.partial", "fake-expert"]
