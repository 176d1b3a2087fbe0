"""Implicit-feedback recommendation: interactions data, BPR matrix factorisation, popularity baseline, ranking metrics."""
