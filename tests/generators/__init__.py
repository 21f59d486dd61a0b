"""Deterministic synthetic inputs shared by the tests and the benchmarks in ``bench/``."""
