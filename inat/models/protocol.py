"""What a model says about itself, whatever it is made of: the `Model` protocol.

A `Bundle` is one network; the naturalist `Ensemble` is a starter that sees every photo, a router and the
species experts installed. Both answer the same few questions, so whoever describes a model (the app's
About tab, its picker) asks the model for its parts and figures instead of asking which class it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # for the annotations only: the protocol depends on no model class
    from ..core.taxonomy import Taxon
    from .bundle import Bundle


@runtime_checkable
class Model(Protocol):
    """A model the registry resolves a name to (`inat.models.registry.resolve`): a `Bundle` or the naturalist `Ensemble`."""

    name: str
    metrics: dict        # what was measured of the model as a whole ({}: never measured)

    @property
    def classes(self) -> list[Taxon]: ...

    @property
    def calibration(self) -> dict:
        """Its stored calibration of the whole ({}: none; an ensemble's parts carry their own)."""

    @property
    def scope(self) -> dict:
        """The one taxon whose world it declares: {"rank", "name", "description"} ({}: none declared)."""

    @property
    def composite(self) -> bool:
        """True when it routes each photo among parts that may be installed or not (naturalist); False for
        one network. What it is made of is `parts()`; this says whether "no expert installed" means anything."""

    @property
    def unmeasured(self) -> list[str]:
        """Parts running with a cautious default because they were never measured ([]: none)."""

    @property
    def downgraded(self) -> list[str]:
        """Parameters that could not be read, one line each, so it runs cautiously ([]: none)."""

    def parts(self) -> list[Bundle]:
        """The bundles it runs, the one that sees every photo first: `[self]` for a Bundle; the starter, then
        the experts, for the ensemble."""

    def experts_by_group(self) -> dict[str, Bundle]:
        """{group: the expert bundle that names that group's species} ({}: none)."""
