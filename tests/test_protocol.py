"""inat.models.protocol: a Bundle and the naturalist Ensemble answer the same questions about themselves."""
import dataclasses

from conftest import FELIDS, TAXA

from inat.core.preprocess import Preprocess
from inat.models.bundle import Bundle
from inat.models.protocol import Model
from inat.naturalist.ensemble import Ensemble


def bundle(name, classes=FELIDS, **kw) -> Bundle:
    return Bundle(name=name, arch="efficientnet_lite0", classes=list(classes), preprocess=Preprocess(input_size=32), **kw)


def test_a_bundle_is_one_network_and_its_own_only_part():
    b = bundle("felids", scope={"rank": "class", "name": "Mammalia"})
    assert isinstance(b, Model)
    assert b.parts() == [b] and b.experts_by_group() == {} and b.composite is False
    assert b.unmeasured == [] and b.downgraded == [] and b.scope["name"] == "Mammalia"
    # Answers, not fields: nothing new is saved in bundle.json or asked of its constructor.
    names = {f.name for f in dataclasses.fields(Bundle)}
    assert not names & {"composite", "unmeasured", "downgraded"} and "composite" not in b.to_json()


def test_the_ensemble_is_its_starter_then_its_experts():
    starter, birds, plants = bundle("starter"), bundle("birds", TAXA[1:3]), bundle("plants", TAXA[3:])
    e = Ensemble(starter, {"birds": birds, "plants": plants}, unmeasured=["plants"])
    assert isinstance(e, Model) and e.composite is True
    assert e.parts() == [starter, birds, plants] and e.experts_by_group() == {"birds": birds, "plants": plants}
    assert e.unmeasured == ["plants"] and e.downgraded == [] and e.calibration == {} and e.scope == {}
    e.experts_by_group().clear()  # a copy: asking never changes the set-up
    assert list(e.experts) == ["birds", "plants"]
    bare = Ensemble(starter)
    assert bare.parts() == [starter] and bare.experts_by_group() == {} and bare.composite is True  # no expert installed
