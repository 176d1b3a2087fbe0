"""Predictors: the one code path from validated input items to outputs, shared by predict, serve and export."""

from lepton_core.deploy.images import decode_base64, encode_file
from lepton_core.deploy.predictor import Predictor

__all__ = ["Predictor", "decode_base64", "encode_file"]
