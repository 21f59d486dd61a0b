"""The same jobs on a Dask cluster. Core stages never import this package; it wraps them."""
