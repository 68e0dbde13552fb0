"""The training notebooks run top to bottom on the tiny dataset (papermill, one epoch, 32 px)."""
import json
from pathlib import Path

import pytest
from conftest import REPO

NOTEBOOKS = REPO / "training_notebooks"

def run(name: str, tmp_path: Path, **parameters) -> dict:
    papermill = pytest.importorskip("papermill")  # here, not at import: the quick loop never loads it
    out = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=parameters, cwd=str(REPO),
                               kernel_name="python3", progress_bar=False)
    return json.loads(out.read_text())


def test_notebooks_are_committed_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = json.loads(path.read_text())
        code = [c for c in book["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path.name
        assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in code) == 1, path.name


@pytest.mark.integration
def test_dataset_analysis(tiny_inat, tmp_path):
    book = run("01_dataset_analysis.ipynb", tmp_path, data_dir=str(tiny_inat), examples=3)
    text = json.dumps(book["cells"])
    assert "Basidiomycota" in text and "4 species, 24 photos" in text


@pytest.mark.integration
def test_train_then_compare(tiny_inat, tmp_path):
    out = tmp_path / "runs" / "nb_run"
    book = run("02_train.ipynb", tmp_path, data_dir=str(tiny_inat), arch="efficientnet_b0", init="scratch",
               epochs=1, img_size=32, batch_size=8, workers=0, device="cpu", out=str(out))
    assert (out / "bundle.json").is_file() and (out / "model.safetensors").is_file()
    assert "top-1" in json.dumps(book["cells"])
    book = run("03_compare_runs.ipynb", tmp_path, weights_dir=str(tmp_path / "no_weights"),
               runs_dir=str(tmp_path / "runs"))
    text = json.dumps(book["cells"])
    assert "nb_run" in text and "image/png" in text
