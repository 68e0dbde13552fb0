"""Hostile images through the predictor and the app's identify function: a result or a one-line error.

The cases (every Pillow mode and format, 1×1 to very large, animations, EXIF orientations, decompression
bombs, damaged files, non-images) are inat.testing.hostile's; running them through `Predictor.predict` and
the app's upload + /identify handler, and judging what came back, is inat.testing.hostile_rig's.
Hypothesis draws new cases on every run (a few dozen here; `benchmarks/robustness.py` runs ≥ 1,000 with
the same generators), the parametrized tests pin the known ones.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from inat.testing.hostile import (CORRUPTIONS, FORMATS, MODES, ODD_ORIENTATIONS, Case, animated_case, bomb_cases,
                                  corrupt, hostile_cases, mode_format_pairs, not_image_cases, odd_exif_case,
                                  orientation_case, saveable, stored_for_orientation, upright_array, valid_case)
from inat.testing.hostile_rig import Outcome, bomb_memory, failures, make_rig, run_case

FAST_EXAMPLES = int(os.environ.get("INAT_HYPOTHESIS_EXAMPLES", "40"))
# Pillow warns while reading the hand-made EXIF blocks; the warning is the expected, harmless outcome.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Truncated File Read")]

@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    old = os.environ.get("INAT_WEIGHTS")
    predictor, app = make_rig(folder)
    yield predictor, app, folder
    if old is None:
        os.environ.pop("INAT_WEIGHTS", None)
    else:
        os.environ["INAT_WEIGHTS"] = old


def _run(rig, cases) -> list[Outcome]:
    predictor, app, folder = rig
    return [o for c in cases for o in run_case(c, predictor, app, folder)]


def test_generators_cover_what_the_suite_promises():
    modes = {m for m, _ in mode_format_pairs()}
    assert modes == set(MODES)
    fmts = {f for _, f in mode_format_pairs()}
    assert {"PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP"} <= fmts
    assert saveable("P", "PNG") and saveable("CMYK", "JPEG") and saveable("I;16", "PNG") and saveable("F", "TIFF")
    # The orientation mapping is the EXIF definition: orientation 6 stores the picture rotated 90° anticlockwise.
    u = upright_array()
    assert np.array_equal(stored_for_orientation(u, 6), np.rot90(u, 1))
    assert {c.kind.split("/")[0] for c in bomb_cases()} >= {"bomb:png", "bomb:gif", "bomb:jpg", "bomb:tif"}


def suite_pairs() -> list[tuple[str, str]]:
    """Every mode in up to two common formats, and RGB in every format (the benchmark runs all pairs)."""
    common = ("PNG", "TIFF", "JPEG", "WEBP", "GIF", "BMP")
    pairs = []
    for m in MODES:
        pairs += [(m, f) for f in common if saveable(m, f)][:2]
    return pairs + [("RGB", f) for f in FORMATS if saveable("RGB", f) and ("RGB", f) not in pairs]


def test_every_mode_and_format_is_identified(rig):
    cases = [valid_case(m, f, 37, 23, seed=i) for i, (m, f) in enumerate(suite_pairs())]
    cases += [valid_case(m, "TIFF", 20, 10, special=True) for m in ("I", "F")]
    cases += [animated_case(f, 3, 30, 20) for f in ("GIF", "PNG", "WEBP", "TIFF")]
    outcomes = _run(rig, cases)
    assert not failures(outcomes)
    assert {o.status for o in outcomes} == {"ok"}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientations_come_back_upright(rig, fmt):
    outcomes = _run(rig, [orientation_case(o, fmt) for o in range(1, 9)])
    assert not failures(outcomes) and len(outcomes) == 16


def test_odd_orientation_tags(rig):
    assert not failures(_run(rig, [odd_exif_case(v) for v in ODD_ORIENTATIONS]))


def test_tiny_thin_and_large_pictures(rig):
    cases = [valid_case("RGB", "PNG", 1, 1), valid_case("L", "JPEG", 1, 1), valid_case("P", "GIF", 1, 1),
             valid_case("L", "PNG", 1, 50), valid_case("L", "PNG", 3000, 2), valid_case("L", "PNG", 1, 60_000),
             valid_case("L", "PNG", 60_001, 1), valid_case("RGB", "JPEG", 4032, 3024)]
    assert not failures(_run(rig, cases))


def test_bombs_are_refused_as_too_large(rig):
    outcomes = _run(rig, bomb_cases())
    assert not failures(outcomes)
    assert {o.status for o in outcomes} == {"error"}


def test_bombs_cost_no_memory(rig, tmp_path):
    predictor, _, _ = rig
    m = bomb_memory(predictor.bundle.path, bomb_cases())
    assert all(pred and "too large" in pred and app and "too large" in app for _, pred, app, _ in m["results"]), m
    assert m["growth_mb"] < 20, m  # refused from the header: nothing the size of the picture is allocated


def test_not_images_and_damaged_files(rig):
    base = valid_case("RGB", "JPEG", 120, 90).data
    cases = not_image_cases() + [Case(f"corrupt:{how}/{s}", corrupt(base, how, s)) for how in CORRUPTIONS
                                 for s in range(2)]
    # Found by hypothesis: a DDS header with zeroed pixel-format flags made Pillow raise
    # NotImplementedError from Image.open, which escaped open_image (and failed a whole predict batch).
    cases.append(Case("corrupt:zero/DDS", corrupt(valid_case("RGB", "DDS", 1, 1).data, "zero", 1), "dds", "error"))
    outcomes = _run(rig, cases)
    assert not failures(outcomes)
    assert all(o.status == "error" for o in outcomes if o.case.startswith("not-image"))


@settings(max_examples=FAST_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(case=hostile_cases())
def test_hypothesis_hostile_inputs(rig, case):
    assert not failures(_run(rig, [case]))


@pytest.mark.slow
def test_real_starter_model(rig):
    # The same checks on the real model (224 px, 1000 outputs, in-scope threshold) for a cross-section.
    from inat.identify.predict import Predictor
    _, (photo, identify, _), folder = rig
    try:
        starter = Predictor("starter")
    except Exception as e:  # the starter's taxonomy or packaged weights are absent
        pytest.skip(f"starter model not available: {e}")
    cases = ([valid_case(m, f, 37, 23) for m, f in suite_pairs()[:13]] + [orientation_case(o) for o in (3, 6, 8)]
             + bomb_cases()[:4] + not_image_cases()[:4] + [valid_case("L", "PNG", 1, 60_000)])
    outcomes = [o for c in cases for o in run_case(c, starter, (photo, identify, "starter"), folder)]
    assert not failures(outcomes)
