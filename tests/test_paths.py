"""inat.core.paths: the assets, weights and runs folders of a checkout and of a plain install."""
from __future__ import annotations

from pathlib import Path

from inat.core import paths

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_keeps_everything_beside_the_package():
    assert (paths.ASSETS, paths.WEIGHTS, paths.RUNS) == (REPO / "assets", REPO / "weights", REPO / "runs")
    assert (paths.ASSETS / "starter_taxonomy.tsv").is_file()


def test_a_plain_install_reads_its_own_assets_and_keeps_models_in_the_user_data_folder(tmp_path):
    site = tmp_path / "site-packages"
    (site / "inat" / "assets").mkdir(parents=True)
    (site / "assets").mkdir()  # another distribution's top-level folder must not be taken for ours
    user = tmp_path / "home" / ".local" / "share" / "inat"
    assert paths.folders(site / "inat", user) == (site / "inat" / "assets", user / "weights", user / "runs")
