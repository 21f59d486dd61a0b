"""Stage 2a: the walking network (:mod:`.graph`), snapping to it, searches and isochrones."""

from gridplan.network.graph import WalkNetwork, network_from_lines
from gridplan.network.load import load_network

__all__ = ["WalkNetwork", "load_network", "network_from_lines"]
