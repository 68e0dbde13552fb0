"""inat.core.probability: the softmax and the calibration maps every prediction goes through."""
import numpy as np
import pytest

from inat.core.probability import calibrated, check_calibration, softmax, top_label_beta


def test_softmax_rows_sum_to_one_without_overflow():
    p = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), -np.inf]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], atol=1e-7)
    assert p.dtype == np.float32


def test_temperature_divides_the_logits():
    logits = np.log([[0.7, 0.2, 0.1]])
    np.testing.assert_allclose(calibrated(logits, {"method": "temperature", "temperature": 2.0}),
                               softmax(logits / 2.0), atol=1e-7)
    np.testing.assert_allclose(calibrated(logits, {}), [[0.7, 0.2, 0.1]], atol=1e-6)


def test_the_beta_map_moves_the_top_and_shares_the_rest_in_proportion():
    probs = np.array([[0.6, 0.3, 0.1]])
    # a = 1, b = 0, c = ln 2: the top's odds... sigmoid(ln p + ln 2) = 2p / (1 + 2p) = 1.2 / 2.2
    out = top_label_beta(probs, {"a": 1.0, "b": 0.0, "c": float(np.log(2.0))})
    top = 1.2 / 2.2
    np.testing.assert_allclose(out, [[top, 0.3 / 0.4 * (1 - top), 0.1 / 0.4 * (1 - top)]], atol=1e-6)
    # The identity map (a = b = 1, c = 0: sigmoid(logit p) = p) changes nothing.
    np.testing.assert_allclose(top_label_beta(probs, {"a": 1.0, "b": 1.0, "c": 0.0}), probs, atol=1e-6)


def test_the_beta_map_never_changes_the_ranking():
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(0, 3, (2000, 12)))
    for beta in ({"a": 0.2, "b": 3.0, "c": -4.0}, {"a": 3.0, "b": 0.1, "c": 3.0}, {"a": 0.0, "b": 0.0, "c": -9.0}):
        out = top_label_beta(probs, beta)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
        assert (out.argmax(axis=1) == probs.argmax(axis=1)).all()
        # the others keep their order too
        assert (np.argsort(-out, axis=1, kind="stable")[:, 1:4] == np.argsort(-probs, axis=1, kind="stable")[:, 1:4]).mean() > 0.99


def test_a_certain_row_stays_a_distribution():
    out = top_label_beta(np.array([[1.0, 0.0, 0.0]]), {"a": 1.0, "b": 0.5, "c": 0.0})
    assert out.sum() == pytest.approx(1.0) and out.argmax() == 0 and out[0, 0] < 1.0


@pytest.mark.parametrize("calibration, match", [
    ({"temperature": 0.001}, "temperature"), ({"method": "platt"}, "method"),
    ({"method": "beta", "beta": {"a": 1, "b": 1}}, "a, b and c"),
    ({"method": "beta", "beta": {"a": 1, "b": float("nan"), "c": 0}}, "a, b and c"),
    ({"method": "beta", "beta": {"a": 1, "b": -0.1, "c": 0}}, "≥ 0")])
def test_unusable_calibrations_are_refused(calibration, match):
    with pytest.raises(ValueError, match=match):
        check_calibration(calibration)
    check_calibration({"method": "beta", "temperature": 0.7, "beta": {"a": 1, "b": 0.5, "c": 0.2}})
