"""demo.py, the app's entry point and the Hugging Face Space's `app_file`: thin, importable, described by the README."""
import importlib
import os
import sys

import pytest
from conftest import REPO

from inat.app import App


@pytest.mark.integration  # builds the Gradio page
def test_import_demo_loads_no_model_and_changes_no_environment(app_env, monkeypatch):
    pytest.importorskip("gradio")
    import inat.app.predictors

    def no(bundle):
        raise AssertionError("a model was loaded at import")
    monkeypatch.setattr(inat.app.predictors, "Predictor", no)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    sys.modules.pop("demo", None)
    monkeypatch.syspath_prepend(str(REPO))
    demo = importlib.import_module("demo")
    assert isinstance(demo.app, App) and demo.demo is demo.app.demo
    assert len([d for d in demo.demo.config["dependencies"] if d.get("api_name") == "identify"]) == 1
    assert "OMP_WAIT_POLICY" not in os.environ
    sys.modules.pop("demo", None)


def test_readme_front_matter_is_a_valid_spaces_card():
    # The Hub reads this block to build the Space: every key it needs, the Gradio version the app is
    # pinned to, and a short_description within the Hub's 60 characters (longer pushes are rejected).
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta = dict(line.split(": ", 1) for line in text.split("---\n")[1].splitlines() if ": " in line)
    for key in ("title", "emoji", "sdk", "sdk_version", "app_file", "python_version", "license",
                "short_description"):
        assert meta.get(key), key
    assert meta["sdk"] == "gradio" and meta["app_file"] == "demo.py" and (REPO / "demo.py").is_file()
    pinned = [line.split("==")[1].strip() for line in (REPO / "requirements.txt").read_text().splitlines()
              if line.startswith("gradio==")]
    assert pinned == [meta["sdk_version"]]
    assert len(meta["short_description"]) <= 60
    assert "tags:" in text.split("---\n")[1]


def test_readme_states_the_two_commands_ci_and_a_newcomer_run():
    # README.md is the newcomer's page: short, and its test command is the one CI runs on a clean clone.
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text) <= 12_000
    assert "    pip install -r requirements.txt && python demo.py\n" in text
    test_command = "pip install -r requirements-dev.txt && python -m pytest"
    assert f"    {test_command}\n" in text
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1].endswith("-r requirements-dev.txt && python -m pytest")
