"""Domain-free data pieces that several plugins share: in-memory tensor batches, and a module run over a loader."""

from lepton_core.data.inference import predict_loader
from lepton_core.data.tensor_batches import TensorBatchLoader

__all__ = ["TensorBatchLoader", "predict_loader"]
