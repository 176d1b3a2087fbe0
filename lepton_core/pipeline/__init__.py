"""The stages of a run: load -> baseline -> train -> evaluate -> report -> bundle."""
