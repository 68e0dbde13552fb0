"""inat: identify species in photos, and train, evaluate and compare the models that do it."""
from .bundle import Bundle, BundleError, load_bundle, resolve_bundle, save_bundle
from .images import ImageError, open_image
from .models import create_model, list_models
from .preprocess import Preprocess
from .taxonomy import Taxon, common_ancestor, load_categories, rollup

__all__ = ["Bundle", "BundleError", "ImageError", "Predictor", "Preprocess", "Taxon", "common_ancestor",
           "create_model", "list_models", "load_bundle", "load_categories", "open_image", "resolve_bundle",
           "rollup", "save_bundle"]


def __getattr__(name):
    # The predictor pulls in torch; import it on first use so `import inat` stays light.
    if name == "Predictor":
        from .predict import Predictor
        return Predictor
    raise AttributeError(name)
