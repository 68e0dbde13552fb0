"""inat: identify species in photos, and train, evaluate and compare the models that do it."""
from .core.images import ImageError, open_image
from .core.preprocess import Preprocess
from .core.record import Identification, Prediction
from .core.rollup import TaxonTree
from .core.taxonomy import Taxon, display_name, load_categories
from .identify.predict import Predictor
from .models.architectures import create_model, list_models
from .models.bundle import Bundle, BundleError, load_bundle, save_bundle
from .models.registry import default_model, list_bundles, model_names, resolve

__all__ = ["Bundle", "BundleError", "Identification", "ImageError", "Prediction", "Predictor", "Preprocess", "Taxon",
           "TaxonTree", "create_model", "default_model", "display_name", "list_bundles", "list_models",
           "load_bundle", "load_categories", "model_names", "open_image", "resolve", "save_bundle"]
