"""Planar geometry shared by the stages: cells, adjacency between them, and linework."""
