"""The project's folders, in one place: `assets/` (what ships with the code: taxonomy files, calibrations, gates,
the router, example photos) and the default `weights/` and `runs/` folders.

In a checkout (run from it, or installed editable: `pip install -e .`) all three sit beside the `inat` package.
A plain `pip install .` carries a copy of assets/ inside the package (inat/assets) and keeps weights and runs in
the user's data folder ($XDG_DATA_HOME/inat, else ~/.local/share/inat); $INAT_WEIGHTS and $INAT_RUNS override
both.
"""
from __future__ import annotations

import os
from pathlib import Path


def folders(package: Path, user_data: Path) -> tuple[Path, Path, Path]:
    """(assets, weights, runs) for the `inat` package folder `package`: beside it in a checkout (a folder with
    pyproject.toml and assets/), else its own copy of the assets and `user_data`'s weights/ and runs/."""
    root = package.parent
    if (root / "pyproject.toml").is_file() and (root / "assets").is_dir():
        return root / "assets", root / "weights", root / "runs"
    return package / "assets", user_data / "weights", user_data / "runs"


USER_DATA = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "inat"
ASSETS, WEIGHTS, RUNS = folders(Path(__file__).resolve().parents[1], USER_DATA)
