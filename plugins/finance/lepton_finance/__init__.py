"""Lepton finance plugin: credit scoring and fraud detection templates."""
