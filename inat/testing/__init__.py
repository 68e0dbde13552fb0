"""What tests and benchmarks build their inputs from (like `numpy.testing`): fake bundles (`bundles`), tiny iNat 2021
datasets (`datasets`), photos: gradio's samples, generated pictures, EXIF blocks (`photos`), damaged model files
(`damaged`), hostile images and the rig that judges them (`hostile`, `hostile_rig`), the served app under load
(`load`) and training killed and resumed (`interrupt`). No pytest here."""
from pathlib import Path

# The folder holding the `inat` package (a checkout's root, where demo.py sits): a child process started there
# imports this same package, whichever copy of the repository it is.
ROOT = Path(__file__).resolve().parents[2]
