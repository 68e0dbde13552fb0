"""Identifying photos: the Predictor (one model loaded once; photos in, records out) and `score` (a whole
archive through Ray Data)."""
