"""What the page shows, as pure functions: a record or a bundle in, Markdown / dicts out.

No Gradio here: every function is tested without a browser, and `inat.app.layout` only wires them to
components. Names that come from bundle files are escaped before they reach Markdown.
"""
from __future__ import annotations

from ..bundle import Bundle
from ..plots import THESIS_CAPTION, THESIS_HEADERS, markdown_table, runs_table, thesis_table
from ..record import Identification
from ..rollup import ANCESTOR_THRESHOLD
from ..taxonomy import display_name

NOT_AN_ORGANISM = "This does not look like an organism I know"


def fmt_pct(p: float | None) -> str:
    """'89.7 %', '<0.1 %' for tiny non-zero values, '—' when unknown."""
    if p is None:
        return "—"
    p = 100 * float(p)
    return "<0.1 %" if 0 < p < 0.05 else f"{p:.1f} %"


def md(text) -> str:
    """Escape Markdown/HTML punctuation in names that come from bundle files."""
    out = str(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def code(text) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def taxon_md(rank: str, name: str) -> str:
    """A taxon's name in Markdown: genus and species names italic, as iNaturalist writes them."""
    return f"*{md(name)}*" if rank in ("genus", "species") else md(name)


# -- Identify ------------------------------------------------------------------------------------
def label_value(r: Identification) -> dict | str:
    """The gr.Label value: {'Common name (Scientific name)': probability} for the top classes, or the
    sentence NOT_AN_ORGANISM when the photo is out of the model's scope (so the big heading never names
    a species the model does not believe in)."""
    if r.in_scope is False:
        return f"This does not look like {scope_words(r.scope)}" if r.scope else NOT_AN_ORGANISM
    return {display_name(p.taxon.common_name, p.taxon.scientific_name): p.probability for p in r.predictions}


def ancestor_sentence(r: Identification) -> str | None:
    """iNat's "We're pretty sure this is in genus X" when the top class alone is below the threshold but a
    taxon above it reaches it; a plain "not sure" when none does; None when the top class is confident."""
    if not r.predictions or r.top.probability >= ANCESTOR_THRESHOLD:
        return None
    a = r.ancestor
    if not a:
        return f"I'm not sure: no species or group above it reaches {ANCESTOR_THRESHOLD:.0%} of the probability."
    where = taxon_md(a["rank"], a["name"]) if a["rank"] == "species" else f"in {a['rank']} {taxon_md(a['rank'], a['name'])}"
    return f"We're pretty sure this is {where} ({fmt_pct(a['probability'])})."


# Everyday words for the taxa people name a photo by ("a bird", not "class Aves").
EVERYDAY = {"Plantae": "a plant", "Animalia": "an animal", "Fungi": "a fungus", "Aves": "a bird",
            "Insecta": "an insect", "Mammalia": "a mammal", "Reptilia": "a reptile", "Amphibia": "an amphibian",
            "Actinopterygii": "a ray-finned fish", "Arachnida": "a spider or other arachnid",
            "Mollusca": "a mollusc", "Lepidoptera": "a butterfly or moth", "Coleoptera": "a beetle",
            "Odonata": "a dragonfly or damselfly", "Hymenoptera": "a bee, wasp or ant", "Tracheophyta": "a vascular plant",
            "Polypodiopsida": "a fern", "Pinopsida": "a conifer", "Magnoliopsida": "a flowering plant",
            "Liliopsida": "a monocot (grass, lily, orchid…)", "Agaricales": "a gilled mushroom"}
INATURALIST_TAXON = "https://www.inaturalist.org/taxa/{}"


def everyday(name: str) -> str | None:
    """'a bird' for Aves, 'a plant' for Plantae…; None when there is no everyday word."""
    return EVERYDAY.get(name)


def scope_words(scope: dict) -> str:
    """How the card names a bundle's world: 'a plant' for kingdom Plantae, else 'something in family X'."""
    return everyday(scope["name"]) or f"something in {scope['rank']} {md(scope['name'])}"


def card_markdown(r: Identification) -> str:
    """The taxonomy card: the top class with its probability, common and scientific name, then kingdom →
    species with each rank's rolled-up probability, and the "pretty sure" line."""
    if not r.predictions:
        return "No prediction."
    if r.in_scope is False and r.scope:  # a closed-set bundle shown something outside its world
        knows = md(r.scope.get("description") or f"{r.scope['rank']} {r.scope['name']}")
        return "\n".join([f"### This does not look like {scope_words(r.scope)}.", "",
                          f"This model knows {knows}; the photo looks like something else "
                          f"(only {fmt_pct(r.scope_probability)} likely to be inside that).", "",
                          "Try the `naturalist` model, which names plants, animals and fungi of every kind."])
    if r.in_scope is False:
        guesses = ", ".join(f"{md(p.taxon.label)} {fmt_pct(p.probability)}" for p in r.predictions[:3])
        lines = [f"### {NOT_AN_ORGANISM}.", ""]
        if r.scope_probability is not None:
            lines.append(f"The plants, animals and fungi this model knows share only {fmt_pct(r.scope_probability)} "
                         f"of its probability; the rest goes to objects and scenes.")
        lines += ["", f"Try a closer photo of a single organism. Unlikely guesses: {guesses}."]
        return "\n".join(lines)
    top = r.top.taxon
    heading = md(top.common_name) if top.common_name else taxon_md(top.rank, top.scientific_name)
    lines = [f"### {fmt_pct(r.top.probability)} · {heading}", f"{taxon_md(top.rank, top.scientific_name)} · {top.rank}"]
    if top.taxon_id is not None:
        lines[-1] += f" · [iNaturalist]({INATURALIST_TAXON.format(top.taxon_id)})"
    if r.top.model:
        lines.append(f"Named by the `{md(r.top.model)}` model.")
    if r.scope:
        lines.append(f"Among the {md(r.scope.get('description') or r.scope['name'])} this model knows.")
    lines.append("")
    sentence = ancestor_sentence(r)
    if sentence:
        lines += [f"**{sentence}**", ""]
    if r.lineage:
        lines += ["| Rank | Taxon | Probability |", "|---|---|---:|"]
        lines += [f"| {x['rank'].capitalize()} | {taxon_md(x['rank'], x['name'])} | {fmt_pct(x['probability'])} |"
                  for x in r.lineage]
    return "\n".join(lines)


# -- model picker and About ----------------------------------------------------------------------
def model_choices(rows: list[dict]) -> list[tuple[str, str]]:
    """(label, value) for the model picker from `inat.hub.model_rows()`: the value is the model's name; the
    label adds what it is, its number of classes and its measured top-1 when known."""
    out = []
    for r in rows:
        acc = r.get("val_top1")
        what = "built-in, ImageNet organisms" if r["builtin"] else r["arch"]
        label = f"{r['name']} — {what}, {r['classes']} classes"
        out.append((label + (f", top-1 {fmt_pct(acc)}" if acc is not None else ""), r["name"]))
    return out


def _metric_line(key: str, value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            any(w in key for w in ("top", "acc", "recall", "precision", "rejection")) and 0 <= value <= 1:
        return f"- {code(key)}: **{fmt_pct(value)}**"
    return f"- {code(key)}: {md(value)}"


def about_markdown(b: Bundle | None, error: str | None = None, weights_folder: str = "weights") -> str:
    """What a model is: architecture, classes (count and a few), scope, training, measured accuracy,
    provenance; then how to add your own weights. `error`: why the model could not be read."""
    parts = []
    if error:
        parts.append(f"This model cannot be read: {md(error)}")
    if b is not None:
        n = len(b.classes)
        step = max(1, n // 8)
        few = ", ".join(md(t.label) for t in b.classes[::step][:8])
        what = f"the {code(b.arch)} architecture"
        if b.run.get("init"):
            what += f", initialised from {md(b.run['init'])}"
        if b.run.get("dataset"):
            what += f", trained on {md(b.run['dataset'])}"
        size = b.run.get("img_size") or b.preprocess.input_size
        parts += [f"### {md(b.name)}: {code(b.arch)}",
                  f"**What it is:** {what}; it sees photos at {size}×{size} pixels.", "",
                  f"**Classes:** {n} — for example {few}{', …' if n > 8 else ''}.", ""]
        if b.has_scope:
            parts += [f"**Scope:** the model also knows {b.num_outputs - n} other things (objects, scenes). "
                      f"When its {n} organism classes share less than {fmt_pct(b.in_scope_threshold)} of "
                      f"the probability, the app says the photo does not look like an organism it knows.", ""]
        run = {k: v for k, v in b.run.items()
               if k in ("epochs", "best_epoch", "device", "command") and v not in (None, "", [], {})}
        if run:
            parts += ["**Training run:**"] + [f"- {code(k)}: {md(v)}" for k, v in run.items()] + [""]
        parts.append("**Measured accuracy:**")
        scalars = {k: v for k, v in b.metrics.items() if not isinstance(v, (dict, list))}
        parts += [_metric_line(k, v) for k, v in scalars.items()] or \
                 ["- not measured yet (`python -m inat evaluate` records it in the bundle)"]
        parts.append("")
        if b.provenance:
            parts += ["**Provenance:**"] + [f"- {code(k)}: {md(v)}" for k, v in b.provenance.items()]
            parts.append("")
    parts += [
        "### Add your own weights",
        f"The picker lists the built-in `starter` and every model bundle (a folder with `bundle.json` and "
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


# -- Compare -------------------------------------------------------------------------------------
def table_rows(runs: list[dict]) -> list[list]:
    """`inat.plots.runs_table` for display: unknown values as a dash."""
    return [["—" if v is None else v for v in row] for row in runs_table(runs)]


def thesis_markdown() -> str:
    return (f"#### {THESIS_CAPTION}\n\nFinal validation results as the thesis reports them. We have "
            f"only these numbers, not the runs, so they are not drawn as curves.\n\n"
            + markdown_table(THESIS_HEADERS, thesis_table()))
