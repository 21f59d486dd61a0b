"""Input layers derived from other sources: households from building footprints and OSM."""
