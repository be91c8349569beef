"""normalizer: telephony, SMS and call-center vendor APIs behind one well-mannered taxonomy."""

from ._category import Category
from ._classify import classify, lookup
from ._exceptions import MappingError, NormalizerError, UnregisteredVendorError
from ._mapping import VendorMapping
from ._outcome import Match, Outcome
from ._registry import Registry, register_mappings

__version__ = "0.1.0"

__all__ = [
    "Category",
    "MappingError",
    "Match",
    "NormalizerError",
    "Outcome",
    "Registry",
    "UnregisteredVendorError",
    "VendorMapping",
    "__version__",
    "classify",
    "lookup",
    "register_mappings",
]

# Present the public names as members of this package (as httpx does) for docs and reprs.
for _name in __all__:
    if _name != "__version__":
        globals()[_name].__module__ = "normalizer"
del _name
