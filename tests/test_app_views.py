"""inat.app.views: what the Identify tab shows, from records, without Gradio or a model.

The records come from `inat.core.record.identify` over small class lists, so every number on the card is known
in advance. The felids of conftest: Lion 40 %, Leopard 35 %, Domestic cat 20 %, English oak 5 %; genus
Panthera 75 %. (That importing the views loads neither gradio nor torch: test_cli.py's start-up test.)
"""
import re

import numpy as np
import pytest
from conftest import FELID_PROBS, FELIDS

from inat.app.views import (NBSP, NOT_AN_ORGANISM, PHOTO_PROBLEMS, card_markdown, claim, fmt_pct, heading, label_value,
                            md, naming_hint, pct, photo_note, photo_problem, possibilities_markdown, problem_card,
                            taxon_name, why_line)
from inat.core.record import identify
from inat.core.rollup import TaxonTree
from inat.core.taxonomy import Taxon


def nb(text: str) -> str:
    """`text` with the no-break space the page puts between a number and its '%'."""
    return text.replace(" %", f"{NBSP}%")


def record(probs=FELID_PROBS, classes=FELIDS, threshold=None, k=5):
    return identify(TaxonTree(classes), np.asarray(probs, dtype=np.float64), "photo", "felids", k,
                    scope_threshold=threshold)


def taxon(class_id, sci, common, lineage, rank="species", taxon_id=None):
    keys = ("kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet")
    return Taxon(class_id, sci, common, rank, dict(zip(keys, lineage)), taxon_id)


BIRDS_AND_FISH = [  # a robin whose class Aves gets 68 %: the claim is phylum Chordata (finding 4)
    taxon(1, "Turdus migratorius", "American robin",
          ["Animalia", "Chordata", "Aves", "Passeriformes", "Turdidae", "Turdus", "migratorius"], taxon_id=12727),
    taxon(2, "Haemorhous mexicanus", "House finch",
          ["Animalia", "Chordata", "Aves", "Passeriformes", "Fringillidae", "Haemorhous", "mexicanus"]),
    taxon(3, "Pterois volitans", "Lionfish",
          ["Animalia", "Chordata", "Actinopterygii", "Scorpaeniformes", "Scorpaenidae", "Pterois", "volitans"]),
    taxon(4, "Quercus robur", "English oak",
          ["Plantae", "Tracheophyta", "Magnoliopsida", "Fagales", "Fagaceae", "Quercus", "robur"]),
]
PLANTS = [  # every class in kingdom Plantae and phylum Tracheophyta, each in its own class
    taxon(1, "Quercus agrifolia", "Coast live oak",
          ["Plantae", "Tracheophyta", "Magnoliopsida", "Fagales", "Fagaceae", "Quercus", "agrifolia"]),
    taxon(2, "Chlorogalum pomeridianum", "Wavy-leafed soap plant",
          ["Plantae", "Tracheophyta", "Liliopsida", "Asparagales", "Asparagaceae", "Chlorogalum", "pomeridianum"]),
    taxon(3, "Polystichum munitum", "Western sword fern",
          ["Plantae", "Tracheophyta", "Polypodiopsida", "Polypodiales", "Dryopteridaceae", "Polystichum", "munitum"]),
]


# -- finding 3: the heading is what the model is sure of ---------------------------------------------------
def test_a_confident_species_is_the_heading():
    r = record([0.93, 0.03, 0.02, 0.02])
    assert claim(r)["kind"] == "species"
    assert heading(r) == nb("Lion — *Panthera leo*, 93 %")
    assert why_line(r).startswith(nb("This species alone gets 93 % of the probability, above the 70 %"))
    card = card_markdown(r)
    assert card.startswith(nb("## Lion — *Panthera leo*, 93 %")) and "pretty sure" not in card


def test_a_weak_species_gives_way_to_the_group_it_is_sure_of():
    r = record()  # Lion 40 %: not the heading; genus Panthera 75 % is
    assert claim(r) == {"kind": "group", "rank": "genus", "name": "Panthera", "probability": pytest.approx(0.75)}
    # Issue 25: the group it is sure of leads, then its best guess in words.
    assert heading(r) == nb("A big cat — most likely Lion, 40 %")
    assert why_line(r) == nb("It is sure of genus *Panthera* (75 %), but no single species reaches 70 %: the ones "
                             "below are possibilities.")
    card = card_markdown(r)
    assert card.startswith(nb("## A big cat — most likely Lion, 40 %"))
    assert nb("- **Lion** (*Panthera leo*) — **40 %** [iNaturalist](https://www.inaturalist.org/taxa/41964)") in card
    assert "Most likely species" not in card
    assert not card.startswith("## Lion")  # the weak species is never headlined


def test_a_group_without_an_everyday_word_names_its_rank():
    cats = [FELIDS[1], FELIDS[2], FELIDS[3]]  # leopard, cat, oak: family Felidae is the claim
    r = record([0.4, 0.35, 0.25], classes=cats)
    assert heading(r) == nb("A cat — most likely Leopard, 40 %")
    r = record([0.4, 0.35, 0.25], classes=[
        taxon(1, "A b", None, ["Animalia", "Chordata", "Mammalia", "Xorder", "Xidae", "A", "b"]),
        taxon(2, "A c", None, ["Animalia", "Chordata", "Mammalia", "Xorder", "Xidae", "A", "c"]),
        FELIDS[3]])
    assert heading(r) == nb("Genus *A* — most likely *A b*, 40 %")


# -- finding 4: helpful ranks, never one every class shares ---------------------------------------------
def test_the_rank_below_the_claim_is_named_when_it_came_close():
    r = record([0.40, 0.28, 0.097, 0.223], classes=BIRDS_AND_FISH)
    assert claim(r)["rank"] == "phylum"
    assert heading(r) == nb("An animal with a backbone — most likely American robin, 40 %")
    assert nb("Class Aves (a bird) gets 68 %, short of 70 %.") in why_line(r)


def test_a_rank_every_class_shares_is_never_the_claim():
    r = record([0.5, 0.3, 0.2], classes=PLANTS)
    shared = TaxonTree(PLANTS).shared()
    assert shared == [("kingdom", "Plantae"), ("phylum", "Tracheophyta")]
    assert r.ancestor["rank"] == "phylum"  # the roll-up finds it (100 %), the page does not claim it
    assert claim(r, shared)["kind"] == "unsure"
    assert heading(r, shared) == "Not sure what this is"
    assert "Every species this model knows is in phylum Tracheophyta" in why_line(r, shared)
    r.scope, r.in_scope = {"rank": "kingdom", "name": "Plantae", "description": "3 plant species"}, True
    assert heading(r, shared) == "Not sure which plant this is"
    card = card_markdown(r, shared)
    assert "Tracheophyta, " not in card.splitlines()[0] and "Among the 3 plant species this model knows." in card


def test_no_group_reaches_the_threshold():
    r = record([0.35, 0.1, 0.1, 0.45])  # not even a kingdom reaches 70 %
    assert r.ancestor is None and claim(r)["kind"] == "unsure"
    assert heading(r) == "Not sure what this is"
    assert why_line(r) == nb("No species and no group reaches 70 %, so the species below are only possibilities.")


# -- finding 13: said once; out of scope --------------------------------------------------------------------
def test_out_of_scope_says_so_once_and_names_no_species():
    r = record([p * 0.1 for p in FELID_PROBS], threshold=0.5)
    assert r.in_scope is False and claim(r)["kind"] == "outside"
    assert label_value(r) == NOT_AN_ORGANISM  # the label's sentence is hidden on the page (page.css)
    card = card_markdown(r)
    assert card.startswith(f"## {NOT_AN_ORGANISM}") and card.count(NOT_AN_ORGANISM) == 1
    assert nb("share only 10 %") in card and "| Species |" not in card
    assert nb("Its unlikely guesses: Lion (Panthera leo) 4 %") in card


def test_outside_a_closed_set_models_world():
    r = record()
    r.in_scope, r.scope_probability = False, 0.03
    r.scope = {"rank": "kingdom", "name": "Plantae", "description": "47 plant species of coastal California"}
    assert heading(r) == "This does not look like a plant"
    assert label_value(r) == "This does not look like a plant"
    card = card_markdown(r)
    assert card.startswith("## This does not look like a plant")
    assert nb("This model knows 47 plant species of coastal California; it gives this photo only 3 %") in card
    assert "Lion" not in card
    r.scope = {"rank": "family", "name": "Mustelidae"}  # a world with no everyday word
    assert heading(r) == label_value(r) == "This does not look like something in family Mustelidae"


# -- finding 10: names ------------------------------------------------------------------------------------
@pytest.mark.parametrize("t, shown", [
    (taxon(8, "Gallus gallus", "Chicken (hen)", ["Animalia", "Chordata", "Aves", "Galliformes", "Phasianidae",
                                                  "Gallus", "gallus"]), "Chicken, hen (Gallus gallus)"),
    (taxon(23, "Aves", "Vulture", ["Animalia", "Chordata", "Aves"], rank="class"), "Vulture (class Aves)"),
    (taxon(13, "Junco", "Junco", ["Animalia", "Chordata", "Aves", "Passeriformes", "Passerellidae", "Junco"],
           rank="genus"), "Genus Junco"),
    (taxon(162, "Canis familiaris", "Beagle", ["Animalia", "Chordata", "Mammalia", "Carnivora", "Canidae", "Canis",
                                               "familiaris"], rank="breed"), "Beagle (Canis familiaris)"),
    (FELIDS[0], "Lion (Panthera leo)"),
    (taxon(9, "Panthera leo", None, []), "Panthera leo"),
])
def test_names_never_nest_brackets_or_hide_a_rank(t, shown):
    assert taxon_name(t) == shown


def test_brackets_are_never_nested_in_the_card():
    hen = taxon(8, "Gallus gallus", "Chicken (hen)", ["Animalia", "Chordata", "Aves", "Galliformes", "Phasianidae",
                                                       "Gallus", "gallus"])
    card = card_markdown(record([0.6, 0.4], classes=[hen, FELIDS[0]]))
    assert "most likely Chicken, hen, 60" in card and "- **Chicken, hen** (*Gallus gallus*)" in card and "(hen)" not in card


def test_a_class_above_species_is_headed_with_its_rank():
    vulture = taxon(23, "Aves", "Vulture", ["Animalia", "Chordata", "Aves"], rank="class")
    r = record([0.8, 0.2], classes=[vulture, FELIDS[0]])
    assert heading(r) == nb("Vulture — class Aves, 80 %")
    assert why_line(r).startswith(nb("This class alone gets 80 %"))


def test_the_label_has_no_row_reading_zero_percent():
    r = record([0.9900, 0.0060, 0.0030, 0.0010])
    assert label_value(r) == {"Lion (Panthera leo)": pytest.approx(0.99), "Leopard (Panthera pardus)": pytest.approx(0.006)}
    weak = record([0.004, 0.003, 0.002, 0.991], classes=FELIDS)
    assert list(label_value(weak)) == ["English oak (Quercus robur)"]
    tiny = identify(TaxonTree(FELIDS), np.asarray([0.004, 0.003, 0.002, 0.001]), "photo", "felids", 4)
    assert list(label_value(tiny)) == ["Lion (Panthera leo)"]  # the first is always kept


def test_the_label_names_every_ranked_class():
    label = label_value(record())
    assert label == {"Lion (Panthera leo)": pytest.approx(0.40), "Leopard (Panthera pardus)": pytest.approx(0.35),
                     "Domestic cat (Felis catus)": pytest.approx(0.20), "English oak (Quercus robur)": pytest.approx(0.05)}


# -- the card -----------------------------------------------------------------------------------------------
def test_the_rank_table_is_in_a_collapsed_section():
    card = card_markdown(record())
    assert "<details><summary>How sure at each rank</summary>" in card and card.rstrip().endswith("</details>")
    for row in ("| Kingdom | Animalia | 95 % |", "| Family | Felidae | 95 % |", "| Genus | *Panthera* | 75 % |",
                "| Species | *Panthera leo* | 40 % |"):
        assert nb(row) in card


def test_the_model_that_named_it_and_the_world_it_knows():
    r = record([0.93, 0.03, 0.02, 0.02])
    r.predictions[0] = type(r.predictions[0])(r.predictions[0].taxon, 0.93, 0, "inat2017-birds")
    r.scope = {"rank": "kingdom", "name": "Animalia", "description": "4 felids"}
    card = card_markdown(r)
    # The model's name in words, not in code font.
    assert "*Panthera leo* · species · [iNaturalist](https://www.inaturalist.org/taxa/41964) · named by the " \
           "inat2017-birds model\n" in card and "`" not in card
    assert "\n\nAmong the 4 felids this model knows." in card  # own lines, not run together


# -- one rounding rule, possibilities, the model that would name it --------------------------------
@pytest.mark.parametrize("p, shown", [(None, "—"), (0, "<1 %"), (0.001, "<1 %"), (0.004999, "<1 %"), (0.005, "1 %"),
                                      (0.924, "92 %"), (0.925, "93 %"), (0.994, "99 %"), (0.995, ">99 %"), (0.999, ">99 %"),
                                      (1, ">99 %")])
def test_one_rounding_rule_never_says_0_or_100(p, shown):
    assert pct(p) == (nb(shown) if p is not None else shown)


def test_every_probability_on_the_card_follows_the_one_rule():
    """The heading, the line under it, the possibilities and the rank table all say the same number the same way
    (the heading said '>99 %' while the line under it said '100.0 %'; the card '<0.1 %', the bar '0%')."""
    r = record([0.9996, 0.0003, 0.0001, 0.0000])
    card = card_markdown(r)
    assert nb("Lion — *Panthera leo*, >99 %") in card
    assert nb("This species alone gets >99 %") in card
    assert nb("| Species | *Panthera leo* | >99 % |") in card
    assert re.findall(r"\d+\.\d", card) == []  # no decimals anywhere
    assert "100" not in re.sub(r"<meter[^>]*>", "", card) and nb(" 0 %") not in card and "<0.1" not in card


def test_possibilities_never_list_an_entry_below_one_percent():
    lines = possibilities_markdown(record([0.9900, 0.0060, 0.0030, 0.0010]))
    text = "\n".join(lines)
    assert "Lion" in text and "Leopard" in text and "Domestic cat" not in text and "English oak" not in text
    assert nb("<1 %") not in text
    tiny = identify(TaxonTree(FELIDS), np.asarray([0.004, 0.003, 0.002, 0.001]), "photo", "felids", 4)
    assert possibilities_markdown(tiny) == [nb("**Possibilities:** no species gets even 1 % of the probability.")]


def test_an_order_is_not_called_a_species():
    slug = taxon(5, "Stylommatophora", "Slug", ["Animalia", "Mollusca", "Gastropoda", "Stylommatophora"], rank="order")
    snail = taxon(6, "Helix pomatia", None, ["Animalia", "Mollusca", "Gastropoda", "Stylommatophora", "Helicidae",
                                           "Helix", "pomatia"])
    card = card_markdown(record([0.45, 0.3, 0.25], classes=[slug, snail, FELIDS[3]]))
    assert card.startswith(nb("## Order Stylommatophora — most likely Slug, 45 %"))
    assert "- **Slug** (order Stylommatophora)" in card and "species: **Slug**" not in card


def test_a_group_with_no_likely_species_says_the_group_only():
    plants = [FELIDS[3], taxon(7, "Brassica oleracea", "Head cabbage",
                               ["Plantae", "Tracheophyta", "Magnoliopsida", "Brassicales", "Brassicaceae", "Brassica",
                                "oleracea"])]
    r = record([0.004, 0.001], classes=plants, k=2)  # the rest of the probability: unnamed plants
    r.ancestor = {"rank": "kingdom", "name": "Plantae", "probability": 0.999}
    assert heading(r) == nb("A plant — kingdom Plantae, >99 %")  # no "most likely Head cabbage, <1 %"


BIRD_OPTIONS = [("class", "Aves", "install the bird expert once (needs the internet): "
                                  "`python -m inat download inat2017-birds`, then restart the app."),
                ("kingdom", "Plantae", "pick the model plants47 (47 plant species of coastal California).")]


def test_a_vague_answer_says_which_model_would_name_it():
    """"A bird" stopped there; the page never said that the bird expert would name it."""
    eagle = taxon(11, "Haliaeetus leucocephalus", "Bald eagle",
                  ["Animalia", "Chordata", "Aves", "Accipitriformes", "Accipitridae", "Haliaeetus", "leucocephalus"])
    hawk = taxon(12, "Buteo jamaicensis", "Red-tailed hawk",
                 ["Animalia", "Chordata", "Aves", "Accipitriformes", "Accipitridae", "Buteo", "jamaicensis"])
    crow = taxon(13, "Corvus brachyrhynchos", "American crow",
                 ["Animalia", "Chordata", "Aves", "Passeriformes", "Corvidae", "Corvus", "brachyrhynchos"])
    r = record([0.26, 0.24, 0.5], classes=[eagle, hawk, crow])
    r.predictions.sort(key=lambda p: p.probability)  # the eagle first, as naturalist's unnamed birds leave it
    r.predictions.reverse()
    r.predictions = [p for p in r.predictions if p.taxon.scientific_name != "Corvus brachyrhynchos"]
    r.ancestor = {"rank": "class", "name": "Aves", "probability": 1.0}
    assert heading(r) == nb("A bird — most likely Bald eagle, 26 %")
    assert naming_hint(r, (), BIRD_OPTIONS) == BIRD_OPTIONS[0][2]
    card = card_markdown(r, options=BIRD_OPTIONS)
    assert "**To name it:** install the bird expert once (needs the internet): `python -m inat download " \
           "inat2017-birds`" in card
    sure = record([0.93, 0.03, 0.02, 0.02])  # a species it is sure of needs no other model
    assert naming_hint(sure, (), [("class", "Mammalia", "x")]) is None
    plant = record([0.3, 0.3, 0.4], classes=PLANTS)
    assert naming_hint(plant, TaxonTree(PLANTS).shared(), BIRD_OPTIONS) == BIRD_OPTIONS[1][2]
    # A class above species it is sure of ("Duck, drake": family Anatidae at 92 %) names no species either.
    drake = taxon(14, "Anatidae", "Duck (drake)", ["Animalia", "Chordata", "Aves", "Anseriformes", "Anatidae"],
                  rank="family")
    duck = record([0.92, 0.08], classes=[drake, crow], k=2)
    assert heading(duck).startswith("Duck, drake — family Anatidae")
    assert naming_hint(duck, (), BIRD_OPTIONS) == BIRD_OPTIONS[0][2]


def test_markdown_in_names_is_escaped():
    evil = Taxon(1, "A b", "<img src=x> *bold*", "species", {"genus": "A", "specific_epithet": "b"})
    card = card_markdown(record([0.9, 0.1], classes=[evil, FELIDS[3]]))
    assert "\\<img src=x\\> \\*bold\\*" in card
    assert md("a|b_c#[x](y)`z`\\") == "a\\|b\\_c\\#\\[x\\](y)\\`z\\`\\\\"


def test_a_record_without_predictions():
    from inat.core.record import Identification
    assert card_markdown(Identification("x", "m", error="bad")) == "No prediction."


@pytest.mark.parametrize("p, shown", [(None, "—"), (0, "0.0 %"), (0.0004, "<0.1 %"), (0.8967, "89.7 %"), (1, "100.0 %")])
def test_fmt_pct(p, shown):
    assert fmt_pct(p) == (nb(shown) if p is not None else shown)


# -- finding 11: photo quality --------------------------------------------------------------------------------
def test_a_small_photo_is_warned_about():
    assert photo_note((640, 480)) is None and photo_note(None) is None and photo_note((200, 900)) is None
    note = photo_note((32, 32))
    assert note.startswith("**Small photo (32 × 32 pixels):**") and "200 pixels" in note
    card = card_markdown(record(), photo_size=(32, 32))
    assert "**Small photo (32 × 32 pixels):**" in card
    assert "Small photo" not in card_markdown(record(), photo_size=(1024, 768))


# -- finding 5: errors in one plain sentence ------------------------------------------------------------------
def _png_header(path, width, height):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_every_refusal_of_open_image_has_a_plain_sentence(tmp_path):
    """Real ImageErrors (with the server's path in them) become one sentence: no path, no library, what to do."""
    from PIL import Image

    from inat.core.images import ImageError, open_image
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("not a photo")
    Image.new("RGB", (400, 300), "green").save(tmp_path / "whole.jpg")
    (tmp_path / "half.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:400])   # cut in its header
    Image.effect_noise((400, 300), 60).convert("RGB").save(tmp_path / "noise.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "noise.jpg").read_bytes()[:3000])   # cut in its pixels
    _png_header(tmp_path / "bomb.png", 70_000, 70_000)
    Image.new("RGB", (3000, 20)).save(tmp_path / "strip.png")
    expected = {"empty.jpg": "is empty", "notes.jpg": "is not a photo this app can open",
                "half.jpg": "is damaged or incomplete", "cut.jpg": "is damaged or incomplete", "bomb.png": "is too large", "strip.png": "too long and narrow"}
    for name, words in expected.items():
        with pytest.raises(ImageError) as e:
            open_image(tmp_path / name)
        sentence = photo_problem(name, str(e.value))
        assert sentence.startswith(f"{name} ") and words in sentence, sentence
        assert str(tmp_path) not in sentence and "/" not in sentence and "Pillow" not in sentence
        assert sentence.endswith(".") and "\n" not in sentence and ":" in sentence  # what is wrong: what to do


def test_an_unknown_reason_still_gets_a_sentence():
    assert photo_problem("x.gif", "something new") == "x.gif could not be opened as a photo: try another photo (JPEG, PNG, WebP or HEIC)."
    assert all(s.endswith(".") for _, s in PHOTO_PROBLEMS)


def test_a_file_that_cannot_be_used_is_said_in_the_card():
    card = problem_card("notes.jpg is not a photo this app can open: choose a JPEG, PNG, WebP or HEIC file.")
    assert card.startswith("## This file cannot be used") and card.endswith("HEIC file.")
