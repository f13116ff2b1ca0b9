"""Benchmarks against peer libraries: each prints a ratio measured in one run."""
