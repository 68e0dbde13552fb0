"""inat.app.views: what the page shows, from records and bundles, without Gradio or a model.

The records come from `inat.record.identify` over the felid classes of conftest, so every number on the
card is known in advance: Lion 40 %, Leopard 35 %, Domestic cat 20 %, English oak 5 %; genus Panthera 75 %.
(That importing the views loads neither gradio nor torch: test_cli.py's start-up test.)
"""

import numpy as np
import pytest

from conftest import FELID_PROBS, FELIDS, HISTORY
from inat.app.views import (NOT_AN_ORGANISM, about_markdown, ancestor_sentence, card_markdown, fmt_pct, label_value,
                            md, model_choices, table_rows, thesis_markdown)
from inat.bundle import Bundle
from inat.preprocess import Preprocess
from inat.record import identify
from inat.rollup import TaxonTree
from inat.taxonomy import Taxon


def record(probs=FELID_PROBS, classes=FELIDS, threshold=None, k=5):
    return identify(TaxonTree(classes), np.asarray(probs, dtype=np.float64), "photo", "felids", k,
                    scope_threshold=threshold)


def bundle(**kw) -> Bundle:
    base = dict(name="felids", arch="efficientnet_lite0", classes=list(FELIDS), preprocess=Preprocess(input_size=32),
                run={"init": "imagenet", "dataset": "test", "img_size": 32, "epochs": 3},
                provenance={"made_by": "tests"}, metrics={"val_top1": 0.5, "split": "val"}, history=list(HISTORY))
    return Bundle(**{**base, **kw})


def test_label_names_every_ranked_class():
    label = label_value(record())
    assert label == {"Lion (Panthera leo)": pytest.approx(0.40), "Leopard (Panthera pardus)": pytest.approx(0.35),
                     "Domestic cat (Felis catus)": pytest.approx(0.20), "English oak (Quercus robur)": pytest.approx(0.05)}
    assert list(label)[0] == "Lion (Panthera leo)"


def test_card_shows_the_top_class_the_lineage_and_the_pretty_sure_line():
    card = card_markdown(record())
    assert card.startswith("### 40.0 % · Lion")
    assert "*Panthera leo* · species" in card
    assert "We're pretty sure this is in genus *Panthera* (75.0 %)" in card
    for row in ("| Kingdom | Animalia | 95.0 % |", "| Family | Felidae | 95.0 % |", "| Genus | *Panthera* | 75.0 % |",
                "| Species | *Panthera leo* | 40.0 % |"):
        assert row in card


def test_the_card_links_inaturalist_and_names_the_model_that_answered():
    r = record()
    assert "*Panthera leo* · species · [iNaturalist](https://www.inaturalist.org/taxa/41964)" in card_markdown(r)
    assert "iNaturalist" not in card_markdown(record([0.1, 0.6, 0.2, 0.1]))  # the leopard has no taxon_id here
    from dataclasses import replace
    from inat.record import Prediction
    named = replace(r, predictions=[Prediction(FELIDS[0], 0.4, 0, model="cats")] + r.predictions[1:])
    assert "Named by the `cats` model." in card_markdown(named)


def test_a_closed_set_model_says_when_a_photo_is_outside_its_world():
    scope = {"rank": "kingdom", "name": "Plantae", "description": "47 plant species", "probability": 0.02}
    r = record()
    r.in_scope, r.scope, r.scope_probability = False, scope, 0.02
    assert label_value(r) == "This does not look like a plant"
    card = card_markdown(r)
    assert card.startswith("### This does not look like a plant.") and "This model knows 47 plant species" in card
    assert "| Species |" not in card and "Lion" not in card
    r.in_scope, r.scope = True, {**scope, "probability": 0.98}
    assert "Among the 47 plant species this model knows." in card_markdown(r)
    r.in_scope, r.scope = False, {"rank": "family", "name": "Felidae"}  # no everyday word for it
    assert label_value(r) == "This does not look like something in family Felidae"
    assert card_markdown(r).startswith("### This does not look like something in family Felidae.\n\nThis model knows family Felidae")


def test_out_of_scope_names_no_species():
    r = record([p * 0.1 for p in FELID_PROBS], threshold=0.5)
    assert r.in_scope is False
    assert label_value(r) == NOT_AN_ORGANISM
    card = card_markdown(r)
    assert card.startswith(f"### {NOT_AN_ORGANISM}.")
    assert "share only 10.0 %" in card and "| Species |" not in card
    assert "Unlikely guesses: Lion (Panthera leo) 4.0 %" in card


def test_ancestor_sentence():
    confident = record([0.93, 0.03, 0.02, 0.02])
    assert ancestor_sentence(confident) is None and "pretty sure" not in card_markdown(confident)
    spread = record([0.35, 0.1, 0.1, 0.45])  # not even a kingdom reaches 70 %
    assert spread.ancestor is None and ancestor_sentence(spread).startswith("I'm not sure")
    species = record([0.6, 0.1, 0.1, 0.2], classes=[FELIDS[0], FELIDS[0], FELIDS[2], FELIDS[3]])
    assert ancestor_sentence(species) == "We're pretty sure this is *Panthera leo* (70.0 %)."  # a species: no "in"


def test_markdown_in_names_is_escaped():
    evil = Taxon(1, "A b", "<img src=x> *bold*", "species", {"genus": "A", "specific_epithet": "b"})
    card = card_markdown(record([0.9, 0.1], classes=[evil, FELIDS[3]]))
    assert "\\<img src=x\\> \\*bold\\*" in card
    assert md("a|b_c#[x](y)`z`\\") == "a\\|b\\_c\\#\\[x\\](y)\\`z\\`\\\\"


def test_a_record_without_predictions():
    from inat.record import Identification
    assert card_markdown(Identification("x", "m", error="bad")) == "No prediction."


@pytest.mark.parametrize("p, shown", [(None, "—"), (0, "0.0 %"), (0.0004, "<0.1 %"), (0.8967, "89.7 %"), (1, "100.0 %")])
def test_fmt_pct(p, shown):
    assert fmt_pct(p) == shown


def test_model_choices_value_is_the_name():
    rows = [{"name": "starter", "builtin": True, "arch": "efficientnet_lite0", "classes": 432, "val_top1": None},
            {"name": "felids", "builtin": False, "arch": "efficientnet_lite0", "classes": 4, "val_top1": 0.5}]
    assert model_choices(rows) == [
        ("starter — built-in, ImageNet organisms, 432 classes", "starter"),
        ("felids — efficientnet_lite0, 4 classes, top-1 50.0 %", "felids")]


def test_about_markdown():
    text = about_markdown(bundle())
    assert "### felids: `efficientnet_lite0`" in text
    assert "initialised from imagenet, trained on test; it sees photos at 32×32 pixels" in text
    assert "**Classes:** 4" in text and "Lion (Panthera leo)" in text
    assert "`val_top1`: **50.0 %**" in text and "`split`: val" in text
    assert "`epochs`: 3" in text and "`made_by`: tests" in text
    assert "--trust-pickle" in text and "INAT_WEIGHTS" in text and "`weights/`" in text
    assert "**Scope:**" not in text
    scoped = about_markdown(bundle(num_outputs=5, output_index=[0, 1, 2, 3], in_scope_threshold=0.5))
    assert "**Scope:** the model also knows 1 other things" in scoped and "less than 50.0 %" in scoped
    unmeasured = about_markdown(bundle(metrics={}))
    assert "not measured yet" in unmeasured


def test_about_markdown_of_a_model_that_cannot_be_read():
    text = about_markdown(None, error="nope: no such model", weights_folder="my_weights")
    assert text.startswith("This model cannot be read: nope: no such model")
    assert "`my\\_weights/`" in text and "###" in text  # still tells how to add weights


def test_many_classes_are_sampled_not_listed():
    classes = [Taxon(i, f"Genus{i} species", None, "species", {"genus": f"Genus{i}", "specific_epithet": "species"})
               for i in range(100)]
    text = about_markdown(bundle(classes=classes))
    line = next(l for l in text.splitlines() if l.startswith("**Classes:**"))
    assert line.startswith("**Classes:** 100 — for example Genus0 species, Genus12 species") and line.endswith(", ….")
    assert line.count("species") == 8


def test_runs_table_rows_show_a_dash_for_unknowns():
    rows = table_rows([{"name": "x", "history": [{"epoch": 1, "train_loss": 2.0}]}])
    assert rows == [["x", "—", "—", "—", "—", "—", 1, "—", "—"]]


def test_thesis_markdown():
    text = thesis_markdown()
    assert text.startswith("#### Reported in the thesis") and "| EfficientNetV2-S | — | 59.82 | 1.7577 |" in text
