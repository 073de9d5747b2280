"""Benchmarks and the quality bench's photo set (importable: ``from bench.photos import load_photos``)."""
