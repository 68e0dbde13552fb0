"""Serving the built page: the command line's `--share`, `--port`, `--host`, and what launch gives Gradio.

    app = build_app()          # inat.app.layout: loads no model
    app.launch()               # parses the flags, loads the default model in the background, serves
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
from dataclasses import dataclass

from ..core.errors import first_line
from .catalog import Catalog
from .page import page_css, page_head

log = logging.getLogger("inat")

MAX_FILE_SIZE = "20mb"       # uploads above this are refused by Gradio before they reach us


def launch_parser() -> argparse.ArgumentParser:
    """`python demo.py`'s flags."""
    parser = argparse.ArgumentParser(description="The species identification app (Gradio).")
    parser.add_argument("--share", action="store_true",
                        help="also print a public *.gradio.live link (needs outbound internet)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: $GRADIO_SERVER_PORT, else the first free from 7860)")
    parser.add_argument("--host", default=None, help="address to bind (default: $GRADIO_SERVER_NAME, else "
                                                     "127.0.0.1; 0.0.0.0 for your network)")
    return parser


@dataclass
class App:
    """The built page and what launching it needs: its models (the shared predictors and the default)."""

    demo: object             # gr.Blocks
    catalog: Catalog | None  # None: nothing to load in the background

    @property
    def models(self):
        return self.catalog.models if self.catalog else None

    @property
    def default(self) -> str | None:
        return self.catalog.default if self.catalog else None

    def launch(self, argv=None, **overrides):
        """Parse `--share`, `--port`, `--host` from `argv` (default: sys.argv) and serve the page.

        The default model is loaded in the background, so the page is up before the model is.
        `overrides` go to `gr.Blocks.launch` (tests pass `prevent_thread_lock=True`, `quiet=True`).
        """
        args = launch_parser().parse_args(argv)
        # OpenMP threads that spin while waiting make CPU inference 10-25x slower as soon as anything else
        # runs on the cores (measured 5 s vs 0.2 s a photo on a shared 2-vCPU host). It must be chosen
        # before torch loads OpenMP, which happens with the first model: here is in time. Yours wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if self.default is not None:
            threading.Thread(target=self._warm, name="inat-warm-model", daemon=True).start()
        options = {"share": args.share or None, "server_port": args.port, "server_name": args.host,
                   "max_file_size": MAX_FILE_SIZE, "footer_links": ["api", "gradio"],
                   "css": page_css(), "head": page_head()}
        return self.demo.launch(**{**options, **overrides})

    def _warm(self):
        try:
            self.models.get(self.default)
        except Exception as e:  # the first request reports it to the user
            log.warning("default model %s not loaded: %s", self.default, first_line(e))
