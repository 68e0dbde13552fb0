"""Interrupted training: SIGKILL `python -m inat train` at random moments, then `--resume`; the files on disk stay
whole after every kill and the resumed run equals the uninterrupted one (what "whole" and "equal" mean, and the
two ways to kill, are inat.testing.interrupt's, whose runs, kills and checks these are). benchmarks/robustness.py
runs many kills with them; the tests here run five (a minute or two each on 2 busy cores: slow).
"""
from __future__ import annotations

import os
import random
import time

import pytest

from inat.testing.interrupt import RUN, RUN_EPOCHS, kill_until_done, reference_run

pytestmark = pytest.mark.integration  # training processes killed and resumed


@pytest.fixture(scope="module")
def reference(tiny_inat, tmp_path_factory):
    ref = reference_run(tiny_inat, tmp_path_factory.mktemp("reference"), RUN_EPOCHS, RUN)
    key = [(h["val_top1"], h["val_top5"], -h["epoch"]) for h in ref["history"]]  # train's choice of the best
    assert key[1] > key[0], ref["history"]  # epoch 2 writes new best weights: the commit points tested below exist
    return ref


@pytest.mark.slow
def test_random_sigkill_then_resume_matches_uninterrupted(tiny_inat, reference, tmp_path):
    seed = int(os.environ.get("INAT_KILL_SEED", time.time_ns() % 10_000))  # INAT_KILL_SEED=N replays a failure
    rng = random.Random(seed)
    # A random moment of the training itself (not the imports before it), then another in the resumed run.
    rec = kill_until_done(tiny_inat, tmp_path / "run", reference, [("mid", rng.random()), ("mid", rng.random())])
    assert rec["kills"], f"the run finished before the kill (seed {seed})"
    assert not rec["problems"], (seed, rec)
    assert rec["final_history_equal"] and rec["final_weights_equal"], (seed, rec)


@pytest.mark.slow
@pytest.mark.parametrize("replace", [5, 6, 7, 8])
def test_sigkill_at_each_commit_point_of_a_new_best_epoch(tiny_inat, reference, tmp_path, replace):
    # Epoch 2 is a new best. Its os.replace calls: #5 its weights → model.safetensors.pending, #6 its
    # bundle.json (the commit point), #7 pending → model.safetensors, #8 the resume checkpoint.
    # Killed before #7, the old model.safetensors sits under a bundle.json describing epoch 2: the
    # weights the project loads must still be epoch 2's (the pending file, found by its stamp), and
    # --resume must finish the rename. Before this protocol, a kill there served epoch-2 weights
    # under epoch-1 numbers.
    rec = kill_until_done(tiny_inat, tmp_path / "run", reference, [("replace", replace)])
    assert rec["kills"] and rec["final_history_equal"] and rec["final_weights_equal"], rec
    assert not rec["problems"], rec
    assert not list((tmp_path / "run").glob("*.tmp")) and not (tmp_path / "run" / "model.safetensors.pending").exists()
