import numpy as np
import pytest
from PIL import Image

from inat.predict import Predictor
from util import TAXA, gradio_photo, make_bundle

CONTRACT_KEYS = ["image", "model", "in_scope", "predictions", "ancestor", "error"]
PRED_KEYS = ["class_id", "probability", "scientific_name", "common_name", "rank", "taxonomy"]


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("w") / "tiny"
    make_bundle(folder)
    return Predictor(str(folder))


def test_results_follow_the_contract(predictor, tmp_path):
    photo = gradio_photo("lion.jpg")
    out = predictor.predict([photo, str(tmp_path / "nope.jpg"), str(tmp_path)], k=3)
    assert [list(r) for r in out] == [CONTRACT_KEYS] * 3
    ok, missing, folder = out
    assert ok["error"] is None and ok["image"] == photo and ok["model"] == "tiny" and ok["in_scope"] is None
    assert [list(p) for p in ok["predictions"]] == [PRED_KEYS] * 3
    probs = [p["probability"] for p in ok["predictions"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert {p["class_id"] for p in ok["predictions"]} <= {t.class_id for t in TAXA}
    for bad in (missing, folder):
        assert bad["predictions"] == [] and bad["ancestor"] is None and "\n" not in bad["error"]


def test_probabilities_are_a_softmax(predictor):
    p = predictor.probabilities([Image.new("RGB", (50, 40), "red"), Image.new("RGB", (10, 90), "blue")])
    assert p.shape == (2, len(TAXA)) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_batching_does_not_change_answers(predictor):
    photos = [gradio_photo(n) for n in ("lion.jpg", "cheetah.jpg", "tower.jpg")]
    one = [predictor.predict([p], k=4)[0]["predictions"] for p in photos]
    many = [r["predictions"] for r in predictor.predict(photos, k=4, batch_size=2)]
    for a, b in zip(one, many):
        assert [x["class_id"] for x in a] == [x["class_id"] for x in b]
        assert np.allclose([x["probability"] for x in a], [x["probability"] for x in b], atol=1e-5)


def test_top_k_is_clamped(predictor):
    r = predictor.predict([gradio_photo("lion.jpg")], k=50)[0]
    assert len(r["predictions"]) == len(TAXA)
