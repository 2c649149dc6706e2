"""Deduplication: exact (normalised-text hash) and MinHash near-duplicates, as multi-pass stages."""
