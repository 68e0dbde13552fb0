"""What tests and benchmarks build their inputs from (like `numpy.testing`): fake bundles (`bundles`), tiny iNat 2021
datasets (`datasets`) and photos: gradio's samples, generated pictures, EXIF blocks (`photos`). No pytest here."""
