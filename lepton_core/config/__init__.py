"""The Hydra bridge: plugin config search path, argument translation and the @hydra.main entry."""
