"""inat.models.importer and `python -m inat import`: the thesis's checkpoints become bundles that predict as the thesis did."""
import json
import subprocess
import sys

import pytest
import torch
from conftest import REPO

from inat.cli.main import main
from inat.identify.predict import Predictor
from inat.models.bundle import load_bundle
from inat.models.importer import THESIS_PREPROCESS, ImportRefused, import_checkpoint, infer_arch, read_checkpoint
from inat.runtime import openvino_backend
from inat.testing.photos import sample_photo

TSV = ("common_name\tkingdom\tphylum\tclass\torder\tfamily\tgenus\tspecific_epithet\n"
       "Lion\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tPanthera\tleo\n"
       "Cheetah\tAnimalia\tChordata\tMammalia\tCarnivora\tFelidae\tAcinonyx\tjubatus\n"
       "Common Earthworm\tAnimalia\tAnnelida\tClitellata\tHaplotaxida\tLumbricidae\tLumbricus\tterrestris\n")


def checkpoints(folder, arch: str):
    """Thesis-style files in `folder`: the whole model pickled (EfficientNetV2S_iNat.pt, the thesis's name),
    its state_dict (state_dict.pt) and the categories TSV. Returns (folder, model)."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.get_model(arch, weights=None, num_classes=3).eval()
    torch.save(model, folder / "EfficientNetV2S_iNat.pt")
    torch.save(model.state_dict(), folder / "state_dict.pt")
    (folder / "categorias_iNat2021.txt").write_text(TSV)
    return folder, model


@pytest.fixture(scope="module")
def thesis(tmp_path_factory):
    """The thesis's own kind of checkpoint: efficientnet_v2_s with a 3-way head."""
    return checkpoints(tmp_path_factory.mktemp("thesis"), "efficientnet_v2_s")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The same files for efficientnet_b0 (a quarter of the size), where the architecture does not matter."""
    return checkpoints(tmp_path_factory.mktemp("small"), "efficientnet_b0")


def thesis_pipeline(model, path):
    """The thesis's own inference: Resize((224, 224)), ToTensor, Normalize, logits."""
    from PIL import Image
    from torchvision import transforms as T
    tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    with torch.no_grad():
        return torch.softmax(model(tf(Image.open(path).convert("RGB"))[None]), 1)[0]


def test_pickle_refused_without_trust(small, tmp_path):
    d, _ = small
    with pytest.raises(ImportRefused, match="--trust-pickle"):
        import_checkpoint(d / "EfficientNetV2S_iNat.pt", d / "categorias_iNat2021.txt", tmp_path / "b")
    assert not (tmp_path / "b").exists()


@pytest.mark.integration
@pytest.mark.parametrize("ckpt", ["EfficientNetV2S_iNat.pt", "state_dict.pt"])
def test_import_keeps_thesis_predictions(thesis, tmp_path, ckpt):
    d, model = thesis
    b = import_checkpoint(d / ckpt, d / "categorias_iNat2021.txt", tmp_path / "b", trust_pickle=True)
    assert b.arch == "efficientnet_v2_s" and b.preprocess == THESIS_PREPROCESS
    meta = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert meta["classes"][1]["scientific_name"] == "Acinonyx jubatus"
    photo = sample_photo("cheetah.jpg")
    ours = Predictor(str(tmp_path / "b"), exact=True).predict([photo], k=3)[0].predictions
    theirs = thesis_pipeline(model, photo)
    for p in ours:
        assert p.probability == pytest.approx(float(theirs[p.taxon.class_id]), abs=1e-4)


def test_infer_arch(small):
    _, model = small
    assert infer_arch(model.state_dict(), 3) == "efficientnet_b0"
    with torch.device("meta"):  # the thesis's architecture is recognised too (shapes only)
        import torchvision
        assert infer_arch(torchvision.models.efficientnet_v2_s(num_classes=3).state_dict(), 3) == "efficientnet_v2_s"


def test_a_checkpoint_that_fits_no_architecture(small, tmp_path):
    d, _ = small
    (tmp_path / "two.txt").write_text("\n".join(TSV.splitlines()[:3]) + "\n")
    with pytest.raises(ValueError, match="matches none"):
        import_checkpoint(d / "state_dict.pt", tmp_path / "two.txt", tmp_path / "b", trust_pickle=True)


@pytest.mark.integration
def test_cli_import_refuses_then_imports(thesis, tmp_path, capsys):
    d, _ = thesis
    args = [sys.executable, "-m", "inat", "import", str(d / "EfficientNetV2S_iNat.pt"),
            "--categories", str(d / "categorias_iNat2021.txt"), "--out", str(tmp_path / "v2s")]
    r = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "--trust-pickle" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "v2s").exists()
    assert main(args[3:] + ["--trust-pickle"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"wrote bundle {tmp_path / 'v2s'} (efficientnet_v2_s, 3 classes)"
    # made at the end of import: what the default precision runs on this CPU (the bf16 IR where it runs bf16)
    fast = "OpenVINO version: {}".format(tmp_path / "v2s" / "model.xml") if \
        openvino_backend.default_backend().startswith("openvino") else f"ONNX version: {tmp_path / 'v2s' / 'model.onnx'}"
    assert out[1:] == [f"fast {fast}"]
    assert load_bundle(tmp_path / "v2s").classes[0].common_name == "Lion"


@pytest.mark.integration
def test_import_with_inat_json_categories_keeps_sparse_ids(thesis, tmp_path):
    # The categories may be any iNat 2021 split's JSON: ids are the dataset's own, sorted, sparse.
    d, model = thesis
    rows = [r.split("\t") for r in TSV.splitlines()[1:]]
    ids = [9947, 143, 5411]
    cats = [{"id": i, "name": f"{r[6]} {r[7]}", "common_name": r[0], "kingdom": r[1], "phylum": r[2],
             "class": r[3], "order": r[4], "family": r[5], "genus": r[6], "specific_epithet": r[7]}
            for i, r in zip(ids, rows)]
    (tmp_path / "val.json").write_text(json.dumps({"images": [], "annotations": [], "categories": cats}))
    b = import_checkpoint(d / "state_dict.pt", tmp_path / "val.json", tmp_path / "b", trust_pickle=True)
    assert [t.class_id for t in b.classes] == [143, 5411, 9947]
    assert b.provenance["categories"] == "val.json" and b.provenance["dataset"] == "iNat 2021-style, 3 classes"
    r = Predictor(str(tmp_path / "b"), exact=True).predict([sample_photo("cheetah.jpg")], k=3)[0]
    assert {p.taxon.class_id for p in r.predictions} == {143, 5411, 9947}


@pytest.mark.integration
def test_cli_import_records_its_command(thesis, tmp_path):
    d, _ = thesis
    assert main(["import", str(d / "state_dict.pt"), "--categories", str(d / "categorias_iNat2021.txt"),
                 "--out", str(tmp_path / "b"), "--trust-pickle"]) == 0
    prov = load_bundle(tmp_path / "b").provenance
    assert prov["command"].startswith("python -m inat import ") and "--categories" in prov["command"]
    assert prov["imported_from"] == "state_dict.pt" and prov["date"]


def test_checkpoint_flavours(small, tmp_path):
    from safetensors.torch import save_file
    d, model = small
    state = model.state_dict()
    torch.save({"model_state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, tmp_path / "ddp.pt")
    got = read_checkpoint(tmp_path / "ddp.pt", trust_pickle=True)  # DataParallel's "module." prefix removed
    assert got.keys() == state.keys()
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    assert read_checkpoint(tmp_path / "w.safetensors", trust_pickle=False).keys() == state.keys()  # no trust needed
    (tmp_path / "junk.bin").write_bytes(b"junk" * 10)
    with pytest.raises(ValueError, match="neither a safetensors file nor a PyTorch checkpoint"):
        read_checkpoint(tmp_path / "junk.bin", trust_pickle=True)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="holds a list, not a model or a state dict"):
        read_checkpoint(tmp_path / "list.pt", trust_pickle=True)
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        read_checkpoint(tmp_path / "missing.pt", trust_pickle=True)
