"""The `naturalist` model: groups, the router, scopes, the expert catalogue and its download, the gates'
manifest, and the ensemble that gives one answer for any photo. Registers itself with `inat.models.registry`."""
from . import assemble  # noqa: F401  (registers the `naturalist` built-in with inat.models.registry)
