"""Deep-network layer profiles for split-point analysis: the bundled model zoo and the profile file loader."""

from simulator.dnn.profile import ProfileError, ProfileTable, layer_profile, read_profile, resolve_profile
from simulator.dnn.zoo import NETWORKS, LayerShape

__all__ = [
    "NETWORKS",
    "LayerShape",
    "ProfileError",
    "ProfileTable",
    "layer_profile",
    "read_profile",
    "resolve_profile",
]
