"""Small builders shared by the core tests (real architectures, tiny heads and inputs)."""
from __future__ import annotations

from pathlib import Path

from inat.bundle import Bundle, save_bundle
from inat.preprocess import Preprocess
from inat.taxonomy import parse_folder_name

FOLDERS = [
    "00000_Animalia_Annelida_Clitellata_Haplotaxida_Lumbricidae_Lumbricus_terrestris",
    "03111_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax",
    "03112_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_brachyrhynchos",
    "05889_Plantae_Tracheophyta_Liliopsida_Asparagales_Asparagaceae_Chlorogalum_pomeridianum",
]
TAXA = [parse_folder_name(f) for f in FOLDERS]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def gradio_photo(name: str) -> str:
    """A real photo shipped inside the gradio package (lion.jpg, cheetah.jpg, tower.jpg...)."""
    import gradio.media
    return str(gradio.media.get_image(name))


def make_bundle(folder, arch: str = "efficientnet_lite0", size: int = 32, seed: int = 0, **kw) -> Bundle:
    """A saved bundle with random weights over TAXA, at a small input size."""
    import torch
    from inat.models import create_model
    torch.manual_seed(seed)
    model = create_model(arch, len(TAXA))
    bundle = Bundle(name=Path(folder).name, arch=arch, classes=list(TAXA),
                    preprocess=Preprocess(input_size=size), **kw)
    save_bundle(bundle, folder, model)
    return bundle
