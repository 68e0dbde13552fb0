"""What the Identify tab shows, as pure functions: a record in, Markdown / dicts / sentences out.

No Gradio here: every function is tested without a browser, and `inat.app.identify_tab` only wires them to
components. Names that come from bundle files are escaped before they reach Markdown.

The result reads as iNaturalist's does: the heading is what the model is sure of (a species when one
reaches 70 %, else the group its species share, "A bird — class Aves, 92 %"), a plain "why" line under
it, and the species below as possibilities. A rank that every class of the model shares (phylum
Tracheophyta for a model of 47 vascular plants) is never the claim: it says nothing about the photo.
"""
from __future__ import annotations

from ..core.images import FORMATS, PHOTO_PROBLEMS, photo_problem  # noqa: F401 (the page's sentences)
from ..core.record import Identification
from ..core.rollup import ANCESTOR_THRESHOLD
from ..core.taxonomy import RANKS, Taxon
from ..naturalist.groups import TABLE as GROUP_TABLE

NOT_AN_ORGANISM = "This does not look like an organism I know"
ABOVE_SPECIES = RANKS[:-1]   # kingdom … genus; a breed, cultivar or subspecies is named by its species
SMALL_SIDE = 200     # px on the short side: below it, the detail that tells species apart is gone
LABEL_MIN = 0.005    # a possibility below this reads "<1 %" (`pct`): it is not listed
INATURALIST_TAXON = "https://www.inaturalist.org/taxa/{}"
PLACEHOLDER = "Your result appears here: upload a photo, or pick one of the examples."
DROP_PHOTO = "Drop a photo here — or click to choose one"  # the empty photo box (Gradio's own: "Drop Image Here")
PHOTO_TIPS = ("**Tips:** one plant, animal or fungus per photo, filling most of the frame and in focus; "
              "for a plant, a flower or a leaf up close.")

# Everyday words for the taxa people name a photo by ("a bird", not "class Aves"). A heading says the
# word and the rank together: "A bird — class Aves, 92 %". The taxa that define naturalist's groups take the
# groups table's words (inat.naturalist.groups: "a plant", "a bird", "an insect", "a fungus").
EVERYDAY = {
    **{g.defined_by[1]: g.word for g in GROUP_TABLE if g.lineage},
    # kingdoms and phyla
    "Animalia": "an animal",
    "Chordata": "an animal with a backbone", "Arthropoda": "an arthropod (insect, spider, crab…)",
    "Mollusca": "a mollusc", "Cnidaria": "a jellyfish, coral or anemone", "Echinodermata": "a starfish or sea urchin",
    "Tracheophyta": "a vascular plant", "Bryophyta": "a moss", "Basidiomycota": "a mushroom or bracket fungus",
    "Ascomycota": "a cup fungus, morel or lichen",
    # classes
    "Mammalia": "a mammal", "Reptilia": "a reptile", "Amphibia": "an amphibian",
    "Actinopterygii": "a ray-finned fish", "Chondrichthyes": "a shark or ray",
    "Arachnida": "a spider or other arachnid", "Malacostraca": "a crab, shrimp or woodlouse",
    "Gastropoda": "a snail or slug", "Bivalvia": "a clam, mussel or oyster",
    "Polypodiopsida": "a fern", "Pinopsida": "a conifer", "Magnoliopsida": "a flowering plant",
    "Liliopsida": "a monocot (grass, lily, orchid…)", "Agaricomycetes": "a mushroom",
    # orders
    "Lepidoptera": "a butterfly or moth", "Coleoptera": "a beetle", "Odonata": "a dragonfly or damselfly",
    "Hymenoptera": "a bee, wasp or ant", "Diptera": "a fly", "Hemiptera": "a true bug", "Orthoptera":
    "a grasshopper or cricket", "Araneae": "a spider", "Passeriformes": "a perching bird",
    "Accipitriformes": "a hawk, eagle or kite", "Anseriformes": "a duck, goose or swan", "Strigiformes": "an owl",
    "Charadriiformes": "a shorebird, gull or auk", "Pelecaniformes": "a heron, ibis or pelican",
    "Carnivora": "a carnivore", "Primates": "a primate", "Rodentia": "a rodent", "Squamata": "a lizard or snake",
    "Testudines": "a turtle", "Anura": "a frog or toad", "Caudata": "a salamander or newt",
    "Agaricales": "a gilled mushroom", "Asparagales": "an orchid, iris or relative",
    # families, genera and species people know by a plain word
    "Felidae": "a cat", "Canidae": "a dog, wolf or fox", "Ursidae": "a bear",
    "Anatidae": "a duck, goose or swan",
    "Accipitridae": "a hawk or eagle", "Nymphalidae": "a brush-footed butterfly", "Apidae": "a bee",
    "Formicidae": "an ant", "Asteraceae": "a daisy or aster", "Rosaceae": "a plant of the rose family",
    "Fabaceae": "a plant of the pea family", "Poaceae": "a grass", "Orchidaceae": "an orchid",
    "Pinaceae": "a pine, fir or spruce", "Fagaceae": "an oak or beech", "Panthera": "a big cat",
    "Canis familiaris": "a dog", "Felis catus": "a domestic cat", "Gallus gallus": "a chicken",
}


NBSP = "\u00a0"       # between a number and its "%": a narrow screen never leaves the "%" alone on a line


def fmt_pct(p: float | None) -> str:
    """A measured rate (an accuracy, a share of photos): '89.7 %', '<0.1 %' for tiny non-zero values, '—' when
    unknown. Never for a probability the model states about a photo: that is `pct`."""
    if p is None:
        return "—"
    p = 100 * float(p)
    return f"<0.1{NBSP}%" if 0 < p < 0.05 else f"{p:.1f}{NBSP}%"


def pct(p: float | None) -> str:
    """Every probability the page states about a photo, in one rule: whole percents, '<1 %' below 0.5 % and
    '>99 %' from 99.5 % (never '0 %' or '100 %': the model is never that sure), '—' when unknown. The heading,
    the line under it, the possibilities, the rank table and the Observations table all use it."""
    if p is None:
        return "—"
    p = 100 * float(p)
    return f"<1{NBSP}%" if p < 0.5 else f">99{NBSP}%" if p >= 99.5 else f"{int(p + 0.5)}{NBSP}%"  # half up


def worth_listing(p: float) -> bool:
    """Whether a possibility is worth a line: one that `pct` would show as '<1 %' is left out."""
    return float(p) >= LABEL_MIN


def md(text) -> str:
    """Escape Markdown/HTML punctuation in names that come from bundle files."""
    out = str(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def code(text) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def taxon_md(rank: str, name: str) -> str:
    """A taxon's name in Markdown: genus and species names (and the species of a breed or cultivar) italic,
    as iNaturalist writes them."""
    return md(name) if rank in ABOVE_SPECIES and rank != "genus" else f"*{md(name)}*"


def everyday(name: str) -> str | None:
    """'a bird' for Aves, 'a plant' for Plantae…; None when there is no everyday word."""
    return EVERYDAY.get(name)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- names ---------------------------------------------------------------------------------------
def _common(t: Taxon) -> str | None:
    """The class's common name, or None when it has none or it only repeats the scientific name. A name with
    its own brackets keeps its words without them ('Chicken (hen)' → 'Chicken, hen'), so the page never
    nests brackets when the scientific name follows."""
    common = t.common_name if t.common_name and t.common_name != t.scientific_name else None
    if common and common.endswith(")") and " (" in common:
        head, _, qualifier = common[:-1].partition(" (")
        common = f"{head}, {qualifier}"
    return common


def taxon_name(t: Taxon) -> str:
    """How the page names a class in plain text, one line.

    'Lion (Panthera leo)'; a common name with its own brackets keeps its words without nesting them,
    'Chicken, hen (Gallus gallus)'; a class above species says its rank, 'Vulture (class Aves)', and a
    genus whose common name is its scientific name reads 'Genus Junco', never a bare 'Junco'.
    """
    common = _common(t)
    if t.rank not in ABOVE_SPECIES:
        return f"{common} ({t.scientific_name})" if common else t.scientific_name
    return f"{common} ({t.rank} {t.scientific_name})" if common else f"{_cap(t.rank)} {t.scientific_name}"


def taxon_name_md(t: Taxon) -> str:
    """`taxon_name` in Markdown: the common name bold, genus and species names italic."""
    common = _common(t)
    sci = taxon_md(t.rank, t.scientific_name)
    where = f"{t.rank} {sci}" if t.rank in ABOVE_SPECIES else sci
    return f"**{md(common)}** ({where})" if common else _cap(where)


def scope_words(scope: dict) -> str:
    """How the card names a bundle's world: 'a plant' for kingdom Plantae, else 'something in family X'."""
    return everyday(scope["name"]) or f"something in {scope['rank']} {md(scope['name'])}"


# -- what the page claims ------------------------------------------------------------------------
def claim(r: Identification, shared=()) -> dict:
    """What the page can honestly say of a photo: {"kind", "rank", "name", "probability"}.

    kind "outside": the photo is out of the model's scope (nothing else is said of it);
    "species": the top class reaches ANCESTOR_THRESHOLD (its rank may be above species: "Vulture", class Aves);
    "group": no class does, but a taxon its classes share does (iNat's "pretty sure" ancestor);
    "unsure": neither, or only a rank that every class of the model shares (`shared`: [(rank, name)],
    `inat.core.rollup.TaxonTree.shared()`), which says nothing about the photo.
    """
    if r.in_scope is False:
        return {"kind": "outside", "rank": None, "name": None, "probability": r.scope_probability}
    top = r.top
    if top is not None and top.probability >= ANCESTOR_THRESHOLD:
        return {"kind": "species", "rank": top.taxon.rank, "name": top.taxon.scientific_name,
                "probability": top.probability}
    a = r.ancestor
    if a and (a["rank"], a["name"]) not in {tuple(s) for s in shared}:
        return {"kind": "group", **a}
    return {"kind": "unsure", "rank": None, "name": None, "probability": None}


def best_guess(r: Identification, c: dict):
    """The most likely class inside the claimed group (the first ranked class whose lineage holds it), or the top
    class when nothing is claimed; None when it would read '<1 %' (then it is no guess worth naming)."""
    inside = [p for p in r.predictions if c["kind"] != "group" or dict(p.taxon.lineage()).get(c["rank"]) == c["name"]
              or (c["rank"] == p.taxon.rank and c["name"] == p.taxon.scientific_name)]
    guess = inside[0] if inside else None
    return guess if guess is not None and worth_listing(guess.probability) else None


def guess_words(t: Taxon) -> str:
    """A class in a few words for a heading: its common name, else its scientific name (with its rank above
    species): 'Bald eagle', '*Quercus robur*', 'Order Stylommatophora'."""
    common = _common(t)
    if common:
        return md(common)
    return f"{_cap(t.rank)} {taxon_md(t.rank, t.scientific_name)}" if t.rank in ABOVE_SPECIES else \
        taxon_md(t.rank, t.scientific_name)


def group_words(c: dict) -> str:
    """The claimed group as a heading starts: 'A bird' for class Aves, else 'Family Xidae'."""
    words = everyday(c["name"])
    return _cap(words) if words else _cap(f"{c['rank']} {taxon_md(c['rank'], c['name'])}")


def heading(r: Identification, shared=()) -> str:
    """The result's heading in Markdown: what the model is sure of, then its best guess in words.

    'Lion — *Panthera leo*, 94 %' (a species it is sure of); 'A bird — most likely Bald eagle, 26 %' (a group it
    is sure of, and the likeliest species in it); 'A plant — kingdom Plantae, >99 %' (a group with no species
    worth naming); 'Not sure which plant this is'; or why the photo is outside what the model knows."""
    c = claim(r, shared)
    if c["kind"] == "outside":
        return f"This does not look like {scope_words(r.scope)}" if r.scope else NOT_AN_ORGANISM
    if c["kind"] == "species":
        t = r.top.taxon
        common = _common(t)
        sci = f"{t.rank} {taxon_md(t.rank, t.scientific_name)}" if t.rank in ABOVE_SPECIES else \
            taxon_md(t.rank, t.scientific_name)
        return f"{md(common)} — {sci}, {pct(c['probability'])}" if common else \
            f"{_cap(sci)}, {pct(c['probability'])}"
    if c["kind"] == "group":
        guess = best_guess(r, c)
        if guess is not None:
            return f"{group_words(c)} — most likely {guess_words(guess.taxon)}, {pct(guess.probability)}"
        where = f"{c['rank']} {taxon_md(c['rank'], c['name'])}"
        return f"{group_words(c)} — {where}, {pct(c['probability'])}" if everyday(c["name"]) else \
            f"{group_words(c)}, {pct(c['probability'])}"
    if r.scope and everyday(r.scope.get("name", "")):
        noun = everyday(r.scope["name"]).split(" ", 1)[1]
        return f"Not sure which {noun} this is"
    return "Not sure what this is"


def why_line(r: Identification, shared=()) -> str:
    """One plain sentence under the heading that says why the page claims what it does."""
    c = claim(r, shared)
    t = f"{100 * ANCESTOR_THRESHOLD:.0f}{NBSP}%"
    if c["kind"] == "outside":
        if r.scope:
            knows = md(r.scope.get("description") or f"{r.scope['rank']} {r.scope['name']}")
            return (f"This model knows {knows}; it gives this photo only {pct(r.scope_probability)} "
                    f"of being one of them.")
        return (f"The plants, animals and fungi this model knows share only {pct(r.scope_probability)} "
                f"of its probability; the rest goes to objects and scenes.")
    if c["kind"] == "species":
        return (f"This {c['rank']} alone gets {pct(c['probability'])} of the probability, above the {t} "
                f"needed to name it.")
    if c["kind"] == "group":
        text = (f"It is sure of {c['rank']} {taxon_md(c['rank'], c['name'])} ({pct(c['probability'])}), but no "
                f"single species reaches {t}: the ones below are possibilities.")
        near = _next_rank(r, c)
        if near:
            words = everyday(near["name"])
            text += (f" {_cap(near['rank'])} {taxon_md(near['rank'], near['name'])}{f' ({words})' if words else ''} "
                     f"gets {pct(near['probability'])}, short of {t}.")
        return text
    text = f"No species and no group reaches {t}, so the species below are only possibilities."
    a = r.ancestor
    if a and (a["rank"], a["name"]) in {tuple(s) for s in shared}:
        text += (f" Every species this model knows is in {a['rank']} {taxon_md(a['rank'], a['name'])}, "
                 f"so that says nothing of this photo.")
    return text


def _next_rank(r: Identification, c: dict) -> dict | None:
    """The rank just below the claimed group on the top class's lineage, when it came close (≥ 50 %)."""
    names = [(x["rank"], x["name"]) for x in r.lineage]
    if (c["rank"], c["name"]) not in names:
        return None
    i = names.index((c["rank"], c["name"]))
    below = r.lineage[i + 1] if i + 1 < len(r.lineage) else None
    return below if below and below["probability"] >= 0.5 else None


def naming_hint(r: Identification, shared=(), options=()) -> str | None:
    """One line saying which model would name what this model stops short of, or None.

    `options`: [(rank, name, sentence)] — a model that names the species of taxon (rank, name), with the sentence
    that says how to get it (`inat.app.about.naming_options`). Given only when the model names no species it is
    sure of (a class above species that it is sure of, "Duck, drake (family Anatidae)", names none), for the first
    option whose taxon is on the top class's lineage or is the claimed group."""
    c = claim(r, shared)
    if c["kind"] == "outside" or not r.predictions or (c["kind"] == "species" and c["rank"] not in ABOVE_SPECIES):
        return None
    lineage = set(r.top.taxon.lineage()) | {(x["rank"], x["name"]) for x in r.lineage}
    if c["kind"] == "group":
        lineage.add((c["rank"], c["name"]))
    return next((sentence for rank, name, sentence in options if (rank, name) in lineage), None)


# -- the Identify outputs --------------------------------------------------------------------------
def label_value(r: Identification) -> dict | str:
    """The gr.Label value (the first output of /identify): {'Common name (Scientific name)': probability} for the
    ranked classes worth listing (the first is always kept), or, for a photo out of the model's scope, the
    sentence that says so (the label then names no species the model does not believe in). The page shows the
    possibilities in the card (`possibilities_markdown`), with the page's one rounding rule."""
    if r.in_scope is False:
        return f"This does not look like {scope_words(r.scope)}" if r.scope else NOT_AN_ORGANISM
    out = {}
    for i, p in enumerate(r.predictions):
        if i == 0 or worth_listing(p.probability):
            out.setdefault(taxon_name(p.taxon), p.probability)
    return out


def possibilities_markdown(r: Identification) -> list[str]:
    """The ranked classes as lines of the card, each with a bar and `pct`; those that would read '<1 %' are left
    out (with a sentence when that is all of them). A class above species says its rank ('Slug (order
    Stylommatophora)'): the list is of possibilities, not all of them species."""
    shown = [p for p in r.predictions if worth_listing(p.probability)]
    if not shown:
        return ["**Possibilities:** no species gets even 1\u00a0% of the probability."]
    lines = ["**Possibilities:**", ""]
    for p in shown:
        link = "" if p.taxon.taxon_id is None else f" [iNaturalist]({INATURALIST_TAXON.format(p.taxon.taxon_id)})"
        width = max(1, round(100 * p.probability))
        lines.append(f"- {taxon_name_md(p.taxon)} — **{pct(p.probability)}**{link}  \n"
                     f"  <meter class='inat-bar' min='0' max='100' value='{width}' aria-hidden='true'></meter>")
    return lines


def photo_note(size: tuple[int, int] | None) -> str | None:
    """A warning for a photo too small to show what tells species apart; None for a good size."""
    if not size or min(size) >= SMALL_SIDE:
        return None
    w, h = size
    return (f"**Small photo ({w} × {h} pixels):** below about {SMALL_SIDE} pixels on the short side the "
            f"details that tell species apart are lost, so trust this answer less. Use the original photo if you can.")


def card_markdown(r: Identification, shared=(), photo_size: tuple[int, int] | None = None, options=()) -> str:
    """The result card: the heading and its "why" line, a line saying which model would name it when this one
    cannot, the possibilities with their bars, a note on a small photo, and the rank-by-rank probabilities
    (kingdom → species) in a collapsed table.

    `shared`: the ranks every class of the model shares (never claimed); `photo_size`: (width, height);
    `options`: what `naming_hint` may suggest."""
    if not r.predictions:
        return "No prediction."
    lines = [f"## {heading(r, shared)}", "", why_line(r, shared), ""]
    note = photo_note(photo_size)
    c = claim(r, shared)
    if c["kind"] == "outside":
        if r.scope:
            lines.append("Try the naturalist model, which names plants, animals and fungi of every kind.")
        else:
            guesses = ", ".join(f"{md(taxon_name(p.taxon))} {pct(p.probability)}" for p in r.predictions[:3])
            lines.append(f"Try a closer photo of a single organism. Its unlikely guesses: {guesses}.")
        return "\n".join(lines + (["", note] if note else []))
    hint = naming_hint(r, shared, options)
    if hint:
        lines += [f"**To name it:** {hint}", ""]
    top = r.top
    if c["kind"] == "species":
        t = top.taxon
        link = "" if t.taxon_id is None else f" · [iNaturalist]({INATURALIST_TAXON.format(t.taxon_id)})"
        by = f" · named by the {md(top.model)} model" if top.model else ""
        lines += [f"{taxon_md(t.rank, t.scientific_name)} · {t.rank}{link}{by}", ""]
    lines += possibilities_markdown(r)
    if c["kind"] != "species" and top.model:
        lines += ["", f"The most likely one is named by the {md(top.model)} model."]
    if r.scope:
        lines += ["", f"Among the {md(r.scope.get('description') or r.scope['name'])} this model knows."]
    if note:
        lines += ["", note]
    if r.lineage:
        lines += ["", "<details><summary>How sure at each rank</summary>", "",
                  "| Rank | Taxon | Probability |", "|---|---|---:|"]
        lines += [f"| {x['rank'].capitalize()} | {taxon_md(x['rank'], x['name'])} | {pct(x['probability'])} |"
                  for x in r.lineage]
        lines += ["", "</details>"]
    return "\n".join(lines)


# -- errors ----------------------------------------------------------------------------------------
def problem_card(sentence: str) -> str:
    """The result card for a photo that cannot be used: the reason, where the result would have been."""
    return f"## This file cannot be used\n\n{sentence}"
