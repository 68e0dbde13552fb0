"""inat.app.launch: `python demo.py`'s flags and what launch gives Gradio, on a stand-in page (no Gradio)."""
from __future__ import annotations

import os

from inat.app.launch import MAX_FILE_SIZE, App, launch_parser
from inat.app.page import RUN_COLOURS


class FakeDemo:
    def __init__(self):
        self.seen = {}

    def launch(self, **kw):
        self.seen.update(kw)


def test_launch_gives_the_page_its_css_and_head():
    demo = FakeDemo()
    App(demo, None).launch([])
    seen = demo.seen
    assert "#taxonomy-card" in seen["css"] and f"--run-colour: {RUN_COLOURS[0]}" in seen["css"]
    assert "window.inatExampleNames" in seen["head"] and "Example: oxeye daisies, a plant" in seen["head"]
    assert "window.inatShowResult" in seen["head"]


def test_launch_flags_and_the_thread_policy(monkeypatch):
    demo = FakeDemo()
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    App(demo, None).launch(["--share", "--port", "7999", "--host", "0.0.0.0"], quiet=True)
    seen = demo.seen
    assert seen["share"] is True and seen["server_port"] == 7999 and seen["server_name"] == "0.0.0.0"
    assert seen["max_file_size"] == MAX_FILE_SIZE and seen["quiet"] is True
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"  # chosen at launch, before torch loads OpenMP
    seen.clear()
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    App(demo, None).launch([])
    # No --port: Gradio itself reads GRADIO_SERVER_PORT (or picks 7860 onwards).
    assert seen["server_port"] is None and seen["share"] is None and seen["server_name"] is None
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's choice wins


def test_the_flags_are_the_documented_three():
    flags = {a.dest for a in launch_parser()._actions} - {"help"}
    assert flags == {"share", "port", "host"}
    assert launch_parser().parse_args([]).share is False


def test_the_default_model_is_loaded_in_the_background(monkeypatch):
    class Models:
        def __init__(self):
            self.asked = []

        def get(self, name):
            self.asked.append(name)
            raise RuntimeError("weights gone")  # logged, never raised: the first request reports it

    from inat.app.catalog import Catalog
    catalog = Catalog(Models(), [("Felids (felids)", "felids")], "felids")
    app = App(FakeDemo(), catalog)
    assert app.default == "felids" and app.models is catalog.models
    app._warm()
    assert catalog.models.asked == ["felids"]
