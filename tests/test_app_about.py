"""inat.app.about: the model picker and the About tab in people's words; figures under Technical details."""
import re

import pytest
from conftest import FELIDS, HISTORY

from inat.app.about import (about_markdown, accuracy_sentence, coverage, limits, model_choices, more_experts_markdown,
                            naming_options, region_sentence, reliability, summary_markdown, technical_markdown)
from inat.core.preprocess import Preprocess
from inat.core.taxonomy import Taxon
from inat.models.bundle import Bundle
from inat.naturalist.ensemble import Ensemble

RAW_KEYS = re.compile(r"val_top1|top1|in_scope_threshold|measured_by|ece_|\.\./shared|`")
BINS = [{"lo": 0.6, "hi": 0.67, "n": 10, "confidence": 0.63, "accuracy": 0.6},
        {"lo": 0.93, "hi": 1.0, "n": 40, "confidence": 0.97, "accuracy": 0.95}]


def bundle(**kw) -> Bundle:
    base = dict(name="felids", arch="efficientnet_lite0", classes=list(FELIDS), preprocess=Preprocess(input_size=32),
                run={"init": "imagenet", "dataset": "test", "img_size": 32, "epochs": 3, "command": "python -m inat train"},
                provenance={"made_by": "tests", "command": "python -m inat train", "dataset": "../shared/data/x"},
                metrics={"val_top1": 0.5, "val_top5": 0.9, "split": "val"}, history=list(HISTORY))
    return Bundle(**{**base, **kw})


def plants(n=47, **kw) -> Bundle:
    classes = [Taxon(i, f"Planta s{i}", f"Plant {i}", "species", {
        "kingdom": "Plantae", "phylum": "Tracheophyta", "class": "Magnoliopsida", "genus": "Planta",
        "specific_epithet": f"s{i}"}) for i in range(n)]
    return bundle(name="plants47", classes=classes, scope={
        "rank": "kingdom", "name": "Plantae", "description": "47 plant species of coastal California (Santa Cruz County)"},
        calibration={"temperature": 0.73, "n": 470, "split": "val", "ece_before": 0.171, "ece_after": 0.064,
                     "ece_cross_fitted": 0.0653, "reliability_after": BINS, "reliability_before": BINS[:1],
                     "data": "../shared/data/inat21-plants47"}, **kw)


def ensemble(starter, experts, metrics=None) -> Ensemble:
    """What `naturalist` gives the page: a starter and the experts installed, with its measured figures."""
    return Ensemble(starter, experts, metrics=metrics or {})


def birds(n=964) -> Bundle:
    classes = [Taxon(i, f"Avis s{i}", None, "species", {"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves",
                                                          "genus": "Avis", "specific_epithet": f"s{i}"}) for i in range(n)]
    return bundle(name="inat2017-birds", classes=classes, num_outputs=n + 1, output_index=list(range(n)),
                  in_scope_threshold=0.9, metrics={"data": "birds525", "n_known": 424, "top1": 0.854, "top5": 0.951})


# -- the picker -------------------------------------------------------------------------------------------
def test_picker_labels_say_what_a_model_knows_in_a_few_words():
    choices = model_choices([("plants47", plants()), ("felids", bundle()), ("inat2017-birds", birds()),
                             ("naturalist", ensemble(bundle(), {"birds": birds()})), ("broken", None)])
    # Issue 25 item 4: words first (with the place a regional model knows), the name for the command line after.
    assert choices == [("Plants of coastal California (plants47)", "plants47"), ("4 species (felids)", "felids"),
                       ("964 bird species (inat2017-birds)", "inat2017-birds"),
                       ("Plants, animals and fungi (naturalist)", "naturalist"), ("broken", "broken")]
    assert all(len(label) <= 40 for label, _ in choices)  # fits a phone's picker (finding 6: cut at "435 cla")
    assert not any(w in label for label, _ in choices for w in ("efficientnet", "top-1", "ImageNet", "classes"))


def test_the_line_under_the_picker():
    text = summary_markdown(plants())
    assert text.startswith("Knows 47 plant species of coastal California (Santa Cruz County).")
    assert "First guess right about 5 times in 10." in text and not RAW_KEYS.search(text)
    assert summary_markdown(None).startswith("This model cannot be read")
    ens = summary_markdown(ensemble(bundle(), {"birds": birds()}))
    assert ens.startswith("Names any plant, animal or fungus: experts for birds (964 species)")


# -- About in people's words ------------------------------------------------------------------------------
def test_about_says_what_it_knows_how_often_it_is_right_where_and_its_limits():
    text = about_markdown(plants())
    assert text.startswith("## plants47: 47 plant species")
    assert "**What it knows:** 47 plant species of coastal California (Santa Cruz County)" in text
    assert "**How often it is right:** Its first guess is right about 5 times in 10" in text
    assert "of 470 test photos it never trained on" in text  # the calibration's count, on the same split
    assert "**Where:** Its species are those of coastal California (Santa Cruz County): photographed elsewhere" in text
    assert "It knows only these 47 plant species: any other species is named as the most similar" in text
    assert "A photo that does not look like a plant is flagged instead of named." in text
    assert "**Can you trust its percentages?** On 470 labelled photos" in text and "7 points away" in text
    assert not RAW_KEYS.search(text), RAW_KEYS.search(text)  # finding 9: no raw keys, no paths, no commands


def test_about_a_model_with_its_own_scope_and_breeds():
    classes = [*FELIDS, Taxon(9, "Aves", "Vulture", "class", {"kingdom": "Animalia", "phylum": "Chordata",
                                                                "class": "Aves"})]
    b = bundle(name="starter", classes=classes, num_outputs=10, output_index=[0, 1, 2, 3, 4], in_scope_threshold=0.5,
               run={"dataset": "ImageNet-1k (organism classes)", "img_size": 224},
               metrics={"top1": 0.885, "n_organism_photos": 218, "split": "imagenet-samples"})
    text = about_markdown(b)
    assert "88.5" in text and "of 218 test photos)" in text and "never trained on" not in text
    assert "It learnt from photos collected from the web around the world (ImageNet)" in text
    assert "a photo of something else altogether (an object, a scene) is flagged" in text
    assert "1 of its 5 classes are a genus, a family or a wider group" in text
    assert not RAW_KEYS.search(text)


def test_about_the_naturalist_ensemble():
    text = about_markdown(ensemble(bundle(name="starter"), {"birds": birds()}))
    assert text.startswith("## naturalist: plants, animals and fungi")
    # the router's groups in people's words, from the one groups table
    assert "whether it shows a plant, a bird, an insect, a fungus, another organism or no organism at all" in text
    assert "- **birds**: 964 bird species (`inat2017-birds`)" in text
    assert "- inat2017-birds on its own: its first guess is right about 9 times in 10 (85.4" in text
    # Issue 25 item 3: the ensemble's own figure is that of the set-up installed, or none.
    assert "- naturalist as installed here (with the birds expert): not measured yet for this set-up" in text
    assert "424 test photos, from the birds525 collection" in text
    assert "Species experts cover birds; everything else comes from the starter's 4 kinds" in text
    assert reliability(ensemble(bundle(), {})) is None


def test_naturalist_without_experts_says_so():
    ens = ensemble(bundle(name="starter"), {})
    assert summary_markdown(ens).startswith("Names any plant, animal or fungus with the starter's 4 kinds of organisms "
                                            "(no species expert is installed).")
    text = about_markdown(ens)
    assert "No expert is installed" in text and "**What it knows:** the starter" in text
    assert limits(ens)[0].startswith("No species expert is installed: every answer comes from the starter's 4 kinds")


def test_about_a_model_that_cannot_be_read_or_was_never_measured():
    assert about_markdown(None, error="nope: no such model") == "This model cannot be read: nope: no such model. Choose another model."
    text = about_markdown(bundle(metrics={}))
    assert "**How often it is right:** not measured yet." in text
    assert accuracy_sentence(bundle(metrics={})) is None


def test_where_its_photos_come_from():
    expert = birds(3)
    expert.run = {"dataset": "iNaturalist 2017 (birds)"}
    expert.scope = {"rank": "class", "name": "Aves", "description": "964 bird species of the world (iNaturalist 2017)"}
    assert region_sentence(expert) == ("It learnt from photos naturalists shared on iNaturalist up to 2017, many of them "
                                       "taken in North America.")  # "of the world" is no place to name
    expert.scope = {**expert.scope, "description": "1,021 insect species, mostly of North America (iNaturalist 2017)"}
    assert region_sentence(expert).endswith("Most of its species are those of North America (iNaturalist 2017): "
                                            "photographed elsewhere, a species may look different to it.")
    assert region_sentence(bundle(scope={})) is None


def test_coverage_counts_in_words():
    assert coverage(FELIDS) == "3 animals and 1 plant"
    assert coverage(plants(3).classes, {"name": "Plantae"}) == "3 plant species"
    assert coverage(birds(5).classes) == "5 bird species"
    sub = Taxon(9, "Avis s0 minor", None, "subspecies", {"kingdom": "Animalia", "phylum": "Chordata", "class": "Aves"})
    assert coverage([*birds(2).classes, sub]) == "3 bird species"  # a subspecies still names a species


def test_limits_always_say_one_organism_and_no_place_or_date():
    for m in (bundle(), plants(), birds(3)):
        assert limits(m)[-1] == "It names one organism per photo, and it does not use where or when the photo was taken."


# -- Technical details and the diagram ----------------------------------------------------------------------
def test_technical_details_keep_every_figure_with_its_key_and_the_command_once():
    text = technical_markdown(plants(), weights_folder="my_weights")
    assert "#### plants47: `efficientnet_lite0`" in text
    for line in ("- `val_top1`: **50.0", "- `split`: val", "- `ece_before`: 0.171", "- `temperature`: 0.73",
                 "- run `command`: python -m inat train", "- `made_by`: tests", "- `dataset`: ../shared/data/x"):
        assert line in text, line
    assert text.count("python -m inat train") == 2  # the run's command, once, and the "Train" hint
    assert "--trust-pickle" in text and "INAT_WEIGHTS" in text and "`my\\_weights/`" in text
    assert technical_markdown(None, error="x: no such model").startswith("The model could not be read: x: no such model")


def test_the_reliability_diagram_comes_from_the_stored_calibration():
    after, before, title = reliability(plants())
    assert after == BINS and before == BINS[:1] and title.startswith("plants47")
    assert reliability(bundle()) is None  # not calibrated: no diagram


@pytest.mark.parametrize("name", ["plants47", "starter"])
def test_real_models_read_in_peoples_words(name):
    """The shipped models (plants47 in weights/, the built-in starter) through the same views."""
    from inat.models.registry import resolve
    try:
        m = resolve(name, names_only=True)
    except Exception as e:  # the starter's weights package or plants47's folder may be missing in a checkout
        pytest.skip(f"{name} not installed: {e}")
    text = about_markdown(m)
    assert not RAW_KEYS.search(text) and "How often it is right:** Its first guess" in text
    assert reliability(m) is not None  # both are calibrated
    assert len(model_choices([(name, m)])[0][0]) <= 40


# -- figures of the user's own set-up; which model would name it; how to add experts ---------------
def test_the_ensembles_figure_is_the_one_of_the_installed_set_up():
    from inat.naturalist.setup_metrics import setup_figures
    both = {"measured_by": "x", "setups": {
        "inat2017-birds+inat2017-insects": {"top1": 0.827, "data": "birds525, 450 photos"},
        "no experts": {"top1": 0.31, "data": "birds525, 450 photos"}}}
    bare = ensemble(bundle(name="starter"), {}, setup_figures(both, []))
    text = summary_markdown(bare)
    assert "First guess right about 3 times in 10." in text and "8 times" not in text
    assert "naturalist as installed here (with no expert installed): its first guess is right about 3 times" \
        in about_markdown(bare)
    birds_only = ensemble(bundle(name="starter"), {"birds": birds()}, setup_figures(both, ["inat2017-birds"]))
    assert "How often it is right with the birds expert is not measured yet." in summary_markdown(birds_only)


def test_picker_labels_fit_a_phone():
    for label, _ in model_choices([("plants47", plants()), ("inat2017-birds", birds()),
                                   ("naturalist", ensemble(bundle(), {}))]):
        assert len(label) <= 40, label


class Expert:
    def __init__(self, name, group, species, rank, taxon):
        self.name, self.group, self.species = name, group, species
        self.scope = {"rank": rank, "name": taxon}


CATALOGUE = {"inat2017-birds": Expert("inat2017-birds", "birds", 964, "class", "Aves"),
             "inat2017-plants": Expert("inat2017-plants", "plants", 2101, "kingdom", "Plantae")}


def test_which_model_would_name_what_naturalist_cannot():
    ens = ensemble(bundle(name="starter"), {})
    options = naming_options("naturalist", ens, {"plants47": plants(), "starter": bundle(name="starter")}, CATALOGUE)
    assert options[0] == ("kingdom", "Plantae", "pick the model plants47 (47 plant species of coastal California) "
                                                "if it was photographed there.")
    assert ("class", "Aves", "install the bird expert once (needs the internet): `python -m inat download "
                             "inat2017-birds`, then restart the app.") in options
    with_birds = ensemble(bundle(name="starter"), {"birds": birds()})
    assert all(r != "Aves" for _, r, _ in naming_options("naturalist", with_birds, {}, CATALOGUE))  # has it
    assert all(o[2].startswith("install") for o in naming_options("plants47", plants(), {"plants47": plants()},
                                                                   CATALOGUE))  # never itself


def test_about_says_how_to_add_experts_and_that_it_needs_the_internet_once():
    more = more_experts_markdown(CATALOGUE, ["inat2017-birds"])
    assert "needs the internet" in more and "`python -m inat download inat2017-plants`" in more
    assert "inat2017-birds" not in more
    assert more_experts_markdown(CATALOGUE, list(CATALOGUE)) is None
    assert about_markdown(plants(), more=more).endswith(more)
