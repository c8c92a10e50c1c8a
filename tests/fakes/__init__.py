"""Fake platform APIs on loopback, for tests and benchmarks."""
