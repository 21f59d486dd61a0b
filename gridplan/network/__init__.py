"""Stage 2a: the walking network (:mod:`.graph`), snapping to it, searches and isochrones."""

from gridplan.network.graph import WalkNetwork, load_network, network_from_lines

__all__ = ["WalkNetwork", "load_network", "network_from_lines"]
