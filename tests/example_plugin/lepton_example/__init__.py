"""Example Lepton plugin: two-moons classification, small enough for the core's tests."""
