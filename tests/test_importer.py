import json
import subprocess
import sys

import pytest
import torch

from inat.bundle import load_bundle
from inat.importer import ImportRefused, THESIS_PREPROCESS, import_checkpoint, infer_arch
from inat.predict import Predictor
from util import gradio_photo

TSV = ("common_name\tkingdom\tphylum\tclass\torder\tfamily\tgenus\tspecific_epithet\n"
       "Lion\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tPanthera\tleo\n"
       "Cheetah\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tAcinonyx\tjubatus\n"
       "Common Earthworm\tAnimalia\tAnnelida\tClitellata\tHaplotaxida\tLumbricidae\tLumbricus\tterrestris\n")


@pytest.fixture(scope="module")
def thesis(tmp_path_factory):
    """A thesis-style checkpoint: a whole pickled efficientnet_v2_s (3-way head) + its TSV."""
    import torchvision
    d = tmp_path_factory.mktemp("thesis")
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_v2_s(weights=None, num_classes=3).eval()
    torch.save(model, d / "EfficientNetV2S_iNat.pt")
    torch.save(model.state_dict(), d / "state_dict.pt")
    (d / "categorias_iNat2021.txt").write_text(TSV)
    return d, model


def thesis_pipeline(model, path):
    """The thesis's own inference: Resize((224, 224)), ToTensor, Normalize, logits."""
    from PIL import Image
    from torchvision import transforms as T
    tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    with torch.no_grad():
        return torch.softmax(model(tf(Image.open(path).convert("RGB"))[None]), 1)[0]


def test_pickle_refused_without_trust(thesis, tmp_path):
    d, _ = thesis
    with pytest.raises(ImportRefused, match="--trust-pickle"):
        import_checkpoint(d / "EfficientNetV2S_iNat.pt", d / "categorias_iNat2021.txt", tmp_path / "b")
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("ckpt", ["EfficientNetV2S_iNat.pt", "state_dict.pt"])
def test_import_keeps_thesis_predictions(thesis, tmp_path, ckpt):
    d, model = thesis
    b = import_checkpoint(d / ckpt, d / "categorias_iNat2021.txt", tmp_path / "b", trust_pickle=True)
    assert b.arch == "efficientnet_v2_s" and b.preprocess == THESIS_PREPROCESS
    meta = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert meta["classes"][1]["scientific_name"] == "Acinonyx jubatus"
    photo = gradio_photo("cheetah.jpg")
    ours = Predictor(str(tmp_path / "b"), exact=True).predict([photo], k=3)[0]["predictions"]
    theirs = thesis_pipeline(model, photo)
    for p in ours:
        assert p["probability"] == pytest.approx(float(theirs[p["class_id"]]), abs=1e-4)


def test_infer_arch_and_mismatch(thesis, tmp_path):
    d, model = thesis
    assert infer_arch(model.state_dict(), 3) == "efficientnet_v2_s"
    (tmp_path / "two.txt").write_text("\n".join(TSV.splitlines()[:3]) + "\n")
    with pytest.raises(ValueError, match="matches none"):
        import_checkpoint(d / "state_dict.pt", tmp_path / "two.txt", tmp_path / "b", trust_pickle=True)


def test_cli_import_refuses_then_imports(thesis, tmp_path):
    d, _ = thesis
    args = [sys.executable, "-m", "inat", "import", str(d / "EfficientNetV2S_iNat.pt"),
            "--categories", str(d / "categorias_iNat2021.txt"), "--out", str(tmp_path / "v2s")]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode != 0 and "--trust-pickle" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(args + ["--trust-pickle"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert load_bundle(tmp_path / "v2s").classes[0].common_name == "Lion"
