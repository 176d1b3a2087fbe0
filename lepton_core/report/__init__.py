"""Run outputs for people: metrics.json, report.html with PNG plots, and the terminal summary."""

from lepton_core.report.figures import save_figure

__all__ = ["save_figure"]
