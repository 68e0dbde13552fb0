"""What a model is, in people's words: the picker's labels, the line under it and the About tab.

Pure functions over a model (`inat.models.protocol.Model`: a Bundle, or the `naturalist` Ensemble): what it
knows, how often its first guess is right, where its photos come from and what it cannot do come first;
the figures with their keys, the calibration, the provenance and the commands go under "Technical
details". No Gradio and no model loading here.

The model is asked for its parts, experts and figures, never for its class. The texts of one network and of
naturalist's router over its parts differ in a few sentences: `_words` is the one place that chooses them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.rollup import TaxonTree
from ..naturalist.groups import TABLE as GROUP_TABLE
from .views import ABOVE_SPECIES, _cap, code, everyday, fmt_pct, md

KINGDOM_PLURALS = {"Animalia": "animals", "Plantae": "plants", "Fungi": "fungi"}
KINGDOM_SINGULARS = {"Animalia": "animal", "Plantae": "plant", "Fungi": "fungus"}
# Where a training set's photos come from, by the start of the dataset name a bundle's run records.
DATASET_REGIONS = {
    "ImageNet": "photos collected from the web around the world (ImageNet), many of them of pets, farm and zoo animals",
    "iNaturalist 2017": "photos naturalists shared on iNaturalist up to 2017, many of them taken in North America",
    "inat21": "photos naturalists shared on iNaturalist up to 2020 (the iNat 2021 data set)",
}
SAMPLE = 8           # class names shown as examples


def _plural_noun(classes, scope: dict | None = None) -> str | None:
    """'bird' for a model whose classes all lie in class Aves: the everyday word of its declared scope, else
    of the deepest taxon its classes share that has one."""
    named = [scope["name"]] if scope and scope.get("name") else []
    for name in named + [n for _, n in reversed(TaxonTree(list(classes)).shared())]:
        words = everyday(name)
        if words and "(" not in words and " or " not in words:
            return words.split(" ", 1)[1]
    return None


def coverage(classes, scope: dict | None = None) -> str:
    """What a list of classes covers, counted: '47 plant species', '964 bird species', or for a mixed list
    '398 animals, 29 plants and 8 fungi'. `scope`: the bundle's declared world, whose name comes first."""
    classes = list(classes)
    n = len(classes)
    all_species = all(t.rank not in ABOVE_SPECIES for t in classes)  # a subspecies or breed names a species
    noun = _plural_noun(classes, scope)
    if noun:
        return f"{n:,} {noun} species" if all_species else f"{n:,} kinds of {noun}"
    kingdoms: dict[str, int] = {}
    for t in classes:
        k = t.taxonomy.get("kingdom") or "other"
        kingdoms[k] = kingdoms.get(k, 0) + 1
    if len(kingdoms) <= 1:
        return f"{n:,} species" if all_species else f"{n:,} kinds of organisms"
    parts = [f"{c:,} {(KINGDOM_SINGULARS if c == 1 else KINGDOM_PLURALS).get(k, k)}"
             for k, c in sorted(kingdoms.items(), key=lambda kv: -kv[1])]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def short_title(m) -> str:
    """Two to five words for the picker: 'plants, animals and fungi', '47 plant species', '435 kinds of organisms'."""
    return _words(m).title(m)


def _network_title(m) -> str:
    classes = list(m.classes)
    if _plural_noun(classes, m.scope):
        return coverage(classes, m.scope)
    return f"{len(classes):,} species" if all(t.rank not in ABOVE_SPECIES for t in classes) else \
        f"{len(classes):,} kinds of organisms"


def picker_words(m) -> str:
    """What a model knows in a few words for the picker, with its place when it has one: 'Plants of coastal
    California', '964 bird species', 'Plants, animals and fungi'."""
    head, sep, place = ((m.scope or {}).get("description") or "").partition(" of ")
    noun = _plural_noun(list(m.classes), m.scope) if sep else None
    if noun and not place.startswith("the world") and not head.endswith("mostly"):
        return f"{_cap(noun)}s of {md(place.split(' (')[0])}"
    return _cap(short_title(m))


def model_choices(models: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """(label, value) for the model picker: the label says what the model knows in words, then its name for the
    command line ('Plants of coastal California (plants47)'), short enough for a phone; the value is the name.
    `models`: (name, Bundle or Ensemble, or None when it cannot be read)."""
    return [(f"{picker_words(m)} ({name})" if m is not None else name, name) for name, m in models]


# -- which model would name it ------------------------------------------------------------------------
def naming_options(current: str, model, installed: dict, experts: dict) -> list[tuple[str, str, str]]:
    """[(rank, name, sentence)]: for each taxon some other model names species of, the sentence that says how to
    get that model, for the card's "To name it" line (`inat.app.views.naming_hint`).

    `current`/`model`: the model in use (its own experts are not suggested again); `installed`: {name: Bundle
    or None} of the other models in the picker; `experts`: the downloadable catalogue (`inat.naturalist.experts.EXPERTS`).
    An installed model comes first (it needs nothing), then the experts not installed yet."""
    inside = {b.name for b in model.parts()}
    out = []
    for name, b in installed.items():
        scope = (b.scope or {}) if b is not None else {}
        if name == current or name in inside or not scope.get("name"):
            continue
        words = (scope.get("description") or short_title(b)).split(" (")[0]
        out.append((scope["rank"], scope["name"], f"pick the model {md(name)} ({md(words)}) if it was "
                                                   f"photographed there." if " of " in words and "world" not in words
                    else f"pick the model {md(name)} ({md(words)})."))
    for e in experts.values():
        if e.name in installed or e.name in inside or not e.scope.get("name"):
            continue
        out.append((e.scope["rank"], e.scope["name"], f"install the {md(e.group[:-1])} expert once (needs the "
                                                      f"internet): `python -m inat download {e.name}`, then restart "
                                                      f"the app."))
    return out


def more_experts_markdown(experts: dict, installed) -> str | None:
    """About's paragraph on adding experts: the ones not installed, each with its command; None when all are."""
    missing = [e for e in experts.values() if e.name not in set(installed)]
    if not missing:
        return None
    lines = ["**More species:** experts name the species of one group. Each is downloaded once (this needs the "
             "internet; afterwards everything runs offline), then restart the app and naturalist uses it:"]
    lines += [f"- {md(e.group)} ({e.species:,} species): `python -m inat download {e.name}`" for e in missing]
    return "\n".join(lines)


# -- how good it is -------------------------------------------------------------------------------
def accuracy_sentence(m) -> str | None:
    """'Its first guess is right about 8 times in 10 (81.9 % of 470 test photos it never trained on); ...',
    from the bundle's measured metrics; None when it was never measured."""
    metrics = m.metrics or {}
    rate = metrics.get("val_top1", metrics.get("top1"))
    if not isinstance(rate, (int, float)):
        return None
    calibration = m.calibration or {}
    same_photos = calibration.get("split") and calibration.get("split") == metrics.get("split")
    n = metrics.get("n_known") or metrics.get("n_organism_photos") or metrics.get("n") or \
        (calibration.get("n") if same_photos else None)
    photos = f"{n:,} test photos" if isinstance(n, int) else "its test photos"
    if metrics.get("split") == "val":  # a held-out split; other figures may include training photos
        photos += " it never trained on"
    if metrics.get("data"):
        photos += f", from the {md(metrics['data'])} collection"
    text = f"Its first guess is right about {round(10 * rate)} times in 10 ({fmt_pct(rate)} of {photos})"
    top5 = metrics.get("val_top5", metrics.get("top5"))
    if isinstance(top5, (int, float)):
        text += f"; the right answer is among its first five for {fmt_pct(top5)}"
    return text + "."


def _lower(sentence: str | None) -> str | None:
    """A sentence continuing a list item after its colon: 'starter on its own: its first guess …'."""
    return sentence[:1].lower() + sentence[1:] if sentence else sentence


def region_sentence(m) -> str | None:
    """Where a bundle's photos come from and the place its species belong to, in words (from its data set
    and its declared scope's description, "47 plant species of coastal California"); None when unrecorded."""
    parts = []
    dataset = str((m.run or {}).get("dataset") or "")
    words = next((w for start, w in DATASET_REGIONS.items() if dataset.startswith(start)), None)
    if words:
        parts.append(f"It learnt from {words}.")
    head, sep, place = ((m.scope or {}).get("description") or "").partition(" of ")
    if sep and not place.startswith("the world"):
        whose = "Most of its species" if head.endswith("mostly") else "Its species"
        parts.append(f"{whose} are those of {md(place)}: photographed elsewhere, a species may look different to it.")
    return " ".join(parts) or None


def limits(m) -> list[str]:
    """What the model cannot do, one plain sentence each."""
    out = _words(m).limits(m)
    unmeasured = list(m.unmeasured)
    if unmeasured:
        out.append(f"How often {' and '.join(unmeasured)} {'is' if len(unmeasured) == 1 else 'are'} right here "
                   "was never measured: it runs with a cautious default in place of a gate fitted on labelled "
                   "photos, so its species are trusted less than a measured expert's.")
    out += [f"A part of naturalist could not be read, so it runs cautiously: {line}." for line in m.downgraded]
    out.append("It names one organism per photo, and it does not use where or when the photo was taken.")
    return out


def _network_limits(m) -> list[str]:
    classes = list(m.classes)
    above = sum(t.rank in ABOVE_SPECIES for t in classes)
    what = coverage(classes, m.scope)
    if m.has_scope:
        out = [f"It knows only these {what}: a species outside them is named as the closest one it knows, "
               f"while a photo of something else altogether (an object, a scene) is flagged."]
    else:
        out = [f"It knows only these {what}: any other species is named as the most similar of them."]
        if m.scope:
            world = everyday(m.scope.get("name", "")) or f"in {m.scope.get('rank')} {md(m.scope.get('name'))}"
            out.append(f"A photo that does not look like {world} is flagged instead of named.")
    if above:
        out.append(f"{above} of its {len(classes)} classes are a genus, a family or a wider group, "
                   f"not one species (a \"vulture\" is any vulture).")
    return out


def _routed_limits(m) -> list[str]:
    experts = m.experts_by_group()
    starter = (f"the starter's {len(m.parts()[0].classes)} kinds of organisms, often named as a genus or family "
               f"rather than a species")
    return [f"Species experts cover {', '.join(experts)}; everything else comes from {starter}." if experts
            else f"No species expert is installed: every answer comes from {starter}."]


def calibration_sentence(m) -> str | None:
    """How far its stated probabilities are from how often it is right (from the stored calibration)."""
    c = m.calibration or {}
    after = c.get("ece_cross_fitted", c.get("ece_after"))
    if after is None:
        return None
    text = (f"On {c.get('n', 'its')} labelled photos, a probability it states is on average "
            f"{100 * after:.0f} points away from how often it is right")
    if c.get("ece_before") is not None:
        text += f" ({100 * c['ece_before']:.0f} points before it was calibrated)"
    return text + (". In the diagram, the closer the dots lie to the diagonal, the more its percentages mean "
                   "what they say.")


def setup_words(m) -> str:
    """The set-up of a naturalist ensemble in words: 'with the birds and insects experts', 'with no expert'."""
    groups = list(m.experts_by_group())
    if not groups:
        return "with no expert installed"
    names = groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]
    return f"with the {names} expert{'s' if len(groups) > 1 else ''}"


def summary_markdown(m) -> str:
    """The line under the picker: what the selected model knows and how often it is right."""
    if m is None:
        return "This model cannot be read; choose another."
    words = _words(m)
    text = words.knows(m)
    acc = accuracy_sentence(m)
    if acc:
        text += " " + acc.split(" (")[0].replace("Its first guess is right", "First guess right") + "."
    else:
        text += words.unmeasured(m)
    return text + " More in the About tab."


def _network_knows(m) -> str:
    return f"Knows {md((m.scope or {}).get('description') or coverage(m.classes, m.scope))}."


def _routed_knows(m) -> str:
    parts = [f"{md(g)} ({len(b.classes):,} species)" for g, b in m.experts_by_group().items()]
    starter = f"the starter's {len(m.parts()[0].classes)} kinds of organisms"
    return (f"Names any plant, animal or fungus: experts for {', '.join(parts)}, and {starter} for the rest."
            if parts else f"Names any plant, animal or fungus with {starter} (no species expert is installed).")


def about_markdown(m, error: str | None = None, more: str | None = None) -> str:
    """The About tab in people's words: what the model knows, how often it is right, where its photos
    come from, what it cannot do, and how honest its percentages are (the diagram sits below it).
    `more`: how to add experts (`more_experts_markdown`), said last."""
    text = _about(m, error)
    return f"{text}\n\n{more}" if more and m is not None else text


def _about(m, error: str | None) -> str:
    if m is None:
        return f"This model cannot be read{': ' + md(error) if error else ''}. Choose another model."
    return "\n".join(_words(m).about(m))


def _network_about(m) -> list[str]:
    classes = list(m.classes)
    step = max(1, len(classes) // SAMPLE)
    few = ", ".join(md(t.common_name or t.scientific_name) for t in classes[::step][:SAMPLE])
    what = (m.scope or {}).get("description") or coverage(classes, m.scope)
    parts = [f"## {md(m.name)}: {md(short_title(m))}", "",
             f"**What it knows:** {md(what)} — for example {few}{', …' if len(classes) > SAMPLE else ''}.", ""]
    acc = accuracy_sentence(m)
    parts += [f"**How often it is right:** {acc or 'not measured yet.'}", ""]
    region = region_sentence(m)
    if region:
        parts += [f"**Where:** {region}", ""]
    parts += ["**What it cannot do:**", *[f"- {x}" for x in limits(m)], ""]
    cal = calibration_sentence(m)
    if cal:
        parts += ["**Can you trust its percentages?** " + cal]
    return parts


def _routed_about(m) -> list[str]:
    starter = m.parts()[0]
    experts = [f"- **{md(g)}**: {coverage(b.classes)} ({code(b.name)})" for g, b in m.experts_by_group().items()]
    parts = [f"## {md(m.name)}: {short_title(m)}", "",
             "One answer for any photo: a router looks at the photo first and decides whether it shows "
             f"{', '.join(g.word for g in GROUP_TABLE if g.lineage)}, another organism or no organism at all, "
             "and the expert for that group names the species.", ""]
    parts += ["**Its experts:**", *experts, ""] if experts else \
        ["No expert is installed: every answer comes from the starter.", ""]
    parts += [f"**{'Everything else' if experts else 'What it knows'}:** the starter, {coverage(starter.classes)}.", ""]
    whole = accuracy_sentence(m)
    parts += ["**How often it is right:**",
              f"- naturalist as installed here ({setup_words(m)}): "
              f"{_lower(whole) or 'not measured yet for this set-up; below, each part on its own photos.'}"]
    parts += [f"- {md(b.name)} on its own: {_lower(accuracy_sentence(b)) or 'not measured yet.'}" for b in m.parts()]
    return parts + ["", "**What it cannot do:**", *[f"- {x}" for x in limits(m)]]


@dataclass(frozen=True)
class _Words:
    """The sentences that differ between one network and a router over parts; the rest is said alike."""

    title: Callable[[object], str]           # short_title
    knows: Callable[[object], str]           # the summary's first sentence
    unmeasured: Callable[[object], str]      # the summary's sentence when no figure is stored
    limits: Callable[[object], list[str]]    # what it cannot do, before what every model shares
    about: Callable[[object], list[str]]     # the About tab's lines


NETWORK = _Words(_network_title, _network_knows, lambda m: "", _network_limits, _network_about)
ROUTED = _Words(lambda m: "plants, animals and fungi", _routed_knows,
                lambda m: f" How often it is right {setup_words(m)} is not measured yet.", _routed_limits,
                _routed_about)


def _words(m) -> _Words:
    """The one place the texts tell a router over parts (naturalist, experts installed or not) from one network."""
    return ROUTED if m.composite else NETWORK


def reliability(m) -> tuple[list[dict], list[dict] | None, str] | None:
    """(bins after calibration, bins before, title) for the reliability diagram, from the stored calibration;
    None when the model has none (`inat.training.plots.plot_reliability` draws it)."""
    c = m.calibration or {}
    after = c.get("reliability_after") or c.get("reliability")
    if not after:
        return None
    return after, c.get("reliability_before"), f"{m.name}: how often right, by stated probability"


# -- Technical details -------------------------------------------------------------------------------
def _metric_line(key: str, value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            any(w in key for w in ("top", "acc", "recall", "precision", "rejection", "ece")) and 0 <= value <= 1:
        return f"- {code(key)}: **{fmt_pct(value)}**" if "ece" not in key else f"- {code(key)}: {value:.3f}"
    return f"- {code(key)}: {md(value)}"


def _bundle_technical(b) -> list[str]:
    n = len(b.classes)
    size = (b.run or {}).get("img_size") or b.preprocess.input_size
    parts = [f"#### {md(b.name)}: {code(b.arch)}",
             f"- architecture {code(b.arch)}, input {size}×{size} pixels, {n} classes"
             + (f", {b.num_outputs} outputs" if b.num_outputs and b.num_outputs != n else "")]
    for key in ("init", "dataset", "epochs", "best_epoch", "device", "command"):
        value = (b.run or {}).get(key)
        if value not in (None, "", [], {}):
            parts.append(f"- run {code(key)}: {md(value)}")
    if b.has_scope:
        parts.append(f"- {code('in_scope_threshold')}: {b.in_scope_threshold} (its classes must share at least "
                     f"{fmt_pct(b.in_scope_threshold)} of the probability for a photo to count as in scope)")
    if b.scope:
        parts.append(f"- {code('scope')}: " + ", ".join(f"{code(k)} {md(v)}" for k, v in b.scope.items()))
    scalars = {k: v for k, v in (b.metrics or {}).items() if not isinstance(v, (dict, list))}
    parts += ["", "Measured:" if scalars else
              "Measured: nothing yet (`python -m inat evaluate` records it in the bundle)."]
    parts += [_metric_line(k, v) for k, v in scalars.items()]
    c = b.calibration or {}
    if c:
        shown = {k: v for k, v in c.items() if not isinstance(v, (dict, list))}
        parts += ["", "Calibration:"] + [_metric_line(k, v) for k, v in shown.items()]
    if b.provenance:  # the command is shown once, with the run, when both record it
        parts += ["", "Provenance:"] + [f"- {code(k)}: {md(v)}" for k, v in b.provenance.items()
                                        if not isinstance(v, (dict, list))
                                        and not (k == "command" and v == (b.run or {}).get("command"))]
    return parts + [""]


def technical_markdown(m, weights_folder: str = "weights", error: str | None = None) -> str:
    """The collapsed "Technical details": every figure with its key, calibration, provenance and commands,
    then how to add your own weights. `error`: why the model could not be read (the first line)."""
    parts = []
    if error:
        parts += [f"The model could not be read: {md(error)}", ""]
    if m is not None:
        for b in m.parts():
            parts += _bundle_technical(b)
    parts += [
        "#### Add your own weights",
        f"The picker lists the built-in models and every model bundle (a folder with `bundle.json` and "
        f"`model.safetensors`) in `{md(weights_folder)}/`, or in the folder named by the `INAT_WEIGHTS` "
        f"environment variable. Restart the app after adding one.",
        "",
        "- **Train** on an iNat 2021 folder: `python -m inat train --help` — the run is saved as a bundle "
        "in `weights/NAME`.",
        "- **Import the thesis checkpoint** (a pickled `torch.save` file; unpickling runs code from the file, "
        "so only do it for a file you trust):  \n"
        "  `python -m inat import best_model.pth --categories categories.tsv --trust-pickle --out weights/thesis_v2s`",
        "- **Check** what is installed: `python -m inat models`.",
    ]
    return "\n".join(parts)
