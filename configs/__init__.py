"""Lepton core Hydra configs (shipped inside the wheel as lepton_core.configs)."""
