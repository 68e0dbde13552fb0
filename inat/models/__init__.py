"""Models as things on disk and by name: the architectures, the bundle format, the built-in starter, importing
the thesis's checkpoints, reading TFLite files, and the registry that finds a model by name."""
from . import starter  # noqa: F401  (registers the `starter` built-in with .registry)
