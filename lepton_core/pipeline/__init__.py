"""The stages of a run: validate -> baseline -> train -> evaluate -> report -> bundle."""
