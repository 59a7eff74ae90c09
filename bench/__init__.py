"""Benchmarks: ``python -m bench`` runs every ``bench/*_bench.py`` and writes bench/RESULTS.md."""
