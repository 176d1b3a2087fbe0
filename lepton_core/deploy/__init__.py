"""Predictors: the one code path from validated input items to outputs, shared by predict, serve and export."""

from lepton_core.deploy.predictor import Predictor

__all__ = ["Predictor"]
