"""Benchmarks and their data generator. Never collected by pytest (testpaths = ["tests"])."""
