"""The expert models `python -m inat download` can install: plain data, no code that fetches anything.

Each expert is a TFLite file and its label file in the Coral project's public test-data repository,
pinned at one commit, with a checksum for every file: sha256 where we hold the file, git's blob id
(SHA-1 of "blob <size>\\0" + bytes, what the repository's tree records) where we only know the tree.
The taxonomy of each expert's classes is committed under `assets/experts/` (built from iNaturalist's
own taxonomy by scripts/); the accuracy figures are what benchmarks/open_world.py measured on the photos of species
each expert knows (benchmarks/results/open_world.json), the run the README's model table quotes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.paths import ASSETS as PROJECT_ASSETS

REPOSITORY = "https://github.com/google-coral/test_data"
COMMIT = "104342d2d3480b3e66203073dac24f4e2dbb4c41"   # 2021-07-26
BASE_URL = f"https://raw.githubusercontent.com/google-coral/test_data/{COMMIT}/"
LICENCE = "Apache-2.0"
ASSETS = PROJECT_ASSETS / "experts"


@dataclass(frozen=True)
class SourceFile:
    """One file of an expert, as its public repository holds it."""

    name: str                     # file name in the repository (and in a --from folder)
    sha256: str | None = None     # pinned sha256 of the bytes
    git_blob: str | None = None   # pinned git blob id (used where no sha256 is known)
    size: int | None = None       # bytes, when known

    @property
    def url(self) -> str:
        return BASE_URL + self.name


# The repository's licence file: copied into every bundle, as Apache-2.0 asks of a redistribution.
LICENSE_FILE = SourceFile("LICENSE", sha256="f9946796a8a5bd5981565142fa42e3b0cc36aef6f80e86beaf5905b3c0fef1b5",
                          size=11361)


@dataclass(frozen=True)
class Expert:
    """A downloadable expert: its files, its classes and what we know of its accuracy."""

    name: str                     # the name users type, and the bundle folder's name
    group: str                    # what it knows, in words
    model: SourceFile             # the .tflite file
    labels: SourceFile            # one class a line, "Scientific name (Common name)", `background` last
    species: int                  # classes that are taxa (the outputs are species + 1: background)
    accuracy: dict = field(default_factory=dict)  # measured by benchmarks/open_world.py; {} = never measured
    licence_file: SourceFile = LICENSE_FILE  # copied into the bundle
    # Summed species probability (1 − background) below which a photo is out of scope. 0.9 keeps 98.8 %
    # of birds525 (bird expert) and 97.6 % of butterflies100 (insect expert) in scope; see README.
    in_scope_threshold: float = 0.9
    scope: dict = field(default_factory=dict)    # the world it knows, as its bundle declares it

    @property
    def taxonomy_tsv(self) -> Path:
        """The committed class taxonomy (built from iNaturalist's taxonomy by the taxonomy script)."""
        return ASSETS / f"{self.name}.tsv"

    @property
    def files(self) -> tuple[SourceFile, ...]:
        return (self.model, self.labels, self.licence_file)


# What an installed bundle says about where its weights come from (its provenance.notice).
NOTICE = ("Weights converted (dequantized to float, stored as fp16 safetensors) from {file}, published by "
          "Google's Coral project in https://github.com/google-coral/test_data at commit {commit} under the "
          "Apache License, Version 2.0 (see LICENSE in this folder). Trained by Google on the iNaturalist 2017 "
          "species classification data set.")

EXPERTS: dict[str, Expert] = {e.name: e for e in [
    Expert(
        name="inat2017-birds", group="birds",
        scope={"rank": "class", "name": "Aves", "description": "964 bird species of the world (iNaturalist 2017)"},
        model=SourceFile("mobilenet_v2_1.0_224_inat_bird_quant.tflite",
                         sha256="350fcd8cf1df1560060d464595dfed8b174b05792788052896004848d9ad04f9",
                         git_blob="225ffa93c74237a64e1a5782fce3dfbc61f9d380", size=3579500),
        labels=SourceFile("inat_bird_labels.txt",
                          sha256="a16108dfe3f8daff015b87a97ab6a17e717b9b1bccd719f6d8f747746d7b9277", size=37146),
        species=964,
        accuracy={"data": "birds525", "n_known": 450, "top1": 0.8556, "top5": 0.9511,
                  "matched_by": "inat.training.evaluate.known_species", "source": "benchmarks/results/open_world.json",
                  "date": "2026-12-06"},
    ),
    Expert(
        name="inat2017-insects", group="insects",
        scope={"rank": "class", "name": "Insecta",
               "description": "1,021 insect species, mostly of North America (iNaturalist 2017)"},
        model=SourceFile("mobilenet_v2_1.0_224_inat_insect_quant.tflite",
                         sha256="0ebaeb474dccf56b8b818b014f0d6a8e22b35a45b491a659f0b5405c9c838282",
                         git_blob="48abc7c548282910bd6d9bc9aeb5663c7288070b", size=3655867),
        labels=SourceFile("inat_insect_labels.txt",
                          sha256="e5e03664a8a70eafc3308268eb8cd6aa28652912735bfdd45e436ae9617155bc", size=40317),
        species=1021,
        accuracy={"data": "butterflies100", "n_known": 245, "top1": 0.9061, "top5": 0.9673,
                  "matched_by": "inat.training.evaluate.known_species", "source": "benchmarks/results/open_world.json",
                  "date": "2026-12-06"},
    ),
    # Not in our mirror (the file is larger than what our snapshots keep): pinned by the git blob id
    # the repository's tree gives it at COMMIT; its accuracy has never been measured by us, and its
    # in-scope threshold is the other experts' value, not measured on it.
    Expert(
        name="inat2017-plants", group="plants",
        scope={"rank": "kingdom", "name": "Plantae",
               "description": "2,101 plant species, mostly of North America (iNaturalist 2017)"},
        model=SourceFile("mobilenet_v2_1.0_224_inat_plant_quant.tflite",
                         git_blob="85737c16869a13417a44229bf1968c4e964d2d7f"),
        labels=SourceFile("inat_plant_labels.txt",
                          sha256="53b78d1ac5808be1648520472db5d17a75a809e3bc51121887a68d9779fac257", size=78171),
        species=2101,
    ),
]}


def get_expert(name: str) -> Expert:
    """The catalogue entry for `name`; an unknown name fails with the list of valid ones."""
    try:
        return EXPERTS[name]
    except KeyError:
        raise ValueError(f"unknown expert {name!r}; choose one of: {', '.join(EXPERTS)}") from None
