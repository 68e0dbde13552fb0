"""inat.identify.predict: photos in, one Identification per photo out, in input order, errors as one line.

Small models (Lite0 with a 4-class head, 32-pixel inputs); nothing here needs ../shared.
"""
import io
import json

import numpy as np
import pytest
from conftest import FELID_PROBS, FELIDS, TAXA, copy_bundle, make_bundle
from PIL import Image

from inat.core.record import Identification
from inat.identify.predict import Predictor
from inat.models.bundle import load_bundle
from inat.testing.photos import picture, sample_photo

CONTRACT_KEYS = ["image", "model", "precision", "in_scope", "predictions", "ancestor", "error"]
PRED_KEYS = ["class_id", "probability", "scientific_name", "common_name", "rank", "taxonomy"]


@pytest.fixture(scope="module")
def predictor(exported, tmp_path_factory):
    """The tiny bundle on PyTorch (no export beside it)."""
    return Predictor(str(copy_bundle(exported, tmp_path_factory.mktemp("w") / "tiny", exports=False)))


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    """Three JPEG files, one large enough for reduced-scale decoding."""
    folder = tmp_path_factory.mktemp("jpegs")
    out = []
    for i, size in enumerate([(640, 480), (300, 400), (1600, 1200)]):
        picture(i, size, grain=8).save(folder / f"p{i}.jpg", quality=90)
        out.append(str(folder / f"p{i}.jpg"))
    return out


def test_results_follow_the_contract(predictor, tmp_path):
    photo = sample_photo("lion.jpg")
    out = predictor.predict([photo, str(tmp_path / "nope.jpg"), str(tmp_path)], k=3)
    assert all(isinstance(r, Identification) for r in out)
    assert [list(r.to_json()) for r in out] == [CONTRACT_KEYS] * 3
    ok, missing, folder = (r.to_json() for r in out)
    assert ok["error"] is None and ok["image"] == photo and ok["model"] == "tiny" and ok["in_scope"] is None
    assert [list(p) for p in ok["predictions"]] == [PRED_KEYS] * 3
    probs = [p["probability"] for p in ok["predictions"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert {p["class_id"] for p in ok["predictions"]} <= {t.class_id for t in TAXA}
    assert ok["ancestor"] is None or ok["ancestor"]["probability"] >= 0.7
    assert [x["rank"] for x in out[0].lineage][-1] == "species"
    for bad, words in ((missing, "no such file"), (folder, "is a directory")):
        assert bad["predictions"] == [] and bad["ancestor"] is None and words in bad["error"]
        assert "\n" not in bad["error"]


def test_order_is_kept_across_batches_and_errors(predictor, jpegs, tmp_path):
    # Photos are decoded by a thread pool ahead of the network: the answers must still come back in order.
    (tmp_path / "notes.jpg").write_text("not a photo")
    inputs = [jpegs[0], str(tmp_path / "notes.jpg"), jpegs[1], jpegs[2], str(tmp_path / "x.jpg"), jpegs[0], jpegs[1]]
    out = predictor.predict(inputs, k=4, batch_size=2)
    assert [r.image for r in out] == inputs
    assert [r.error is None for r in out] == [True, False, True, True, False, True, True]
    one = {p: predictor.predict([p], k=4)[0] for p in jpegs}
    for src, r in zip(inputs, out):
        if r.error is None:
            assert [p.index for p in r.predictions] == [p.index for p in one[src].predictions]
            assert np.allclose([p.probability for p in r.predictions], [p.probability for p in one[src].predictions],
                               atol=1e-5)


def test_a_batch_of_only_bad_photos(predictor, tmp_path):
    assert [r.error is not None for r in predictor.predict([str(tmp_path / "a"), str(tmp_path / "b")])] == [True, True]
    assert predictor.predict([]) == []


def test_bytes_and_pil_images_are_accepted(predictor):
    im = Image.new("RGB", (50, 40), "red")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    a, b = predictor.predict([im, buf.getvalue()], k=2)
    assert (a.image, b.image) == ("<image 0>", "<image 1>") and a.error is None and b.error is None
    assert [p.index for p in a.predictions] == [p.index for p in b.predictions]


def test_top_k_is_clamped(predictor):
    r = predictor.predict([sample_photo("lion.jpg")], k=50)[0]
    assert len(r.predictions) == len(TAXA)


def test_probabilities_are_a_softmax_over_every_output(predictor):
    p = predictor.probabilities([Image.new("RGB", (50, 40), "red"), Image.new("RGB", (10, 90), "blue")])
    assert p.shape == (2, len(TAXA)) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert predictor.probabilities([]).shape == (0, len(TAXA))


def test_every_backend_gives_the_same_answers(exported, jpegs):
    fast, torch_ = Predictor(str(exported)), Predictor(str(exported), backend="torch")
    assert (fast.backend, torch_.backend) == ("onnx", "torch")
    for x, y in zip(fast.predict(jpegs, k=4), torch_.predict(jpegs, k=4)):
        assert [p.index for p in x.predictions] == [p.index for p in y.predictions]
        assert np.allclose([p.probability for p in x.predictions], [p.probability for p in y.predictions], atol=1e-5)


def test_models_by_name_path_and_bundle(exported, monkeypatch):
    monkeypatch.setenv("INAT_WEIGHTS", str(exported.parent))
    by_name, by_path, by_bundle = Predictor("tiny"), Predictor(str(exported)), Predictor(load_bundle(exported))
    assert by_name.bundle.path == by_path.bundle.path == by_bundle.bundle.path == exported
    assert by_name.name == "tiny" and by_name.tree.taxa == TAXA


def test_classes_are_read_from_their_own_outputs_and_scope_from_the_rest(tmp_path):
    # Six outputs, four of them classes in another order: probabilities must follow output_index, and the
    # photo is out of scope when the classes share less than the threshold.
    probs = [0.02, 0.2, 0.4, 0.1, 0.08, 0.2]  # outputs 0..5
    b = make_bundle(tmp_path / "m", classes=FELIDS, probs=probs, output_index=[2, 3, 4, 5], in_scope_threshold=0.9)
    r = Predictor(b).predict([Image.new("RGB", (40, 40), "green")], k=4)[0]
    assert [(p.taxon.class_id, round(p.probability, 4)) for p in r.predictions] == \
        [(101, 0.4), (200, 0.2), (102, 0.1), (103, 0.08)]
    assert r.in_scope is False and r.scope_probability == pytest.approx(0.78)
    assert json.loads(json.dumps(r.to_json()))["in_scope"] is False


def test_a_constant_model_gives_its_known_record(tmp_path):
    b = make_bundle(tmp_path / "felids", classes=FELIDS, probs=FELID_PROBS)
    r = Predictor(b).predict([sample_photo("tower.jpg")])[0]
    assert [p.taxon.common_name for p in r.predictions] == ["Lion", "Leopard", "Domestic cat", "English oak"]
    assert r.ancestor == {"rank": "genus", "name": "Panthera", "probability": pytest.approx(0.75, abs=1e-5)}
