"""Domain-free tabular pieces shared by plugins (classification and regression on tables).

Public API (imported lazily, so ``import lepton_core.tabular`` stays cheap):

- ``read_table(path) -> DataFrame``: CSV/TSV/Parquet by extension; a missing file, an unsupported
  extension, an unreadable or empty table raise a one-line ``DataError``.
- ``TabularPreprocessor(max_categories=200, clip=8.0)``: ``fit(frame, features, numeric=None,
  categorical=None)`` (kinds auto-detected unless listed), ``transform(frame) -> (x_num float32,
  x_cat int64)``, ``to_state()`` / ``from_state(state)`` (JSON), ``columns``, ``feature_names``,
  ``cardinalities``, ``n_numeric``. Numerics: median imputation, missing indicators, standardisation.
  Categoricals: vocabulary, index 0 = missing or unseen. All-missing column, text in a numeric column
  or a missing column -> ``DataError`` naming the column.
- ``TabularNet(n_numeric, cardinalities, n_outputs=1, hidden=(128, 64), dropout=0.1)``: embeddings +
  MLP + linear skip; ``forward(x_num, x_cat) -> (batch, n_outputs)``; ONNX-exportable.
- ``TabularDataModule``: table (or a subclass's ``demo_frame()``) -> checked target (``encode_target``)
  -> random / stratified / out-of-time split -> preprocessor fitted on train -> ``(x_num, x_cat, y)``
  TensorBatchLoader batches; ``model_kwargs()``, ``summary()``, ``export_state()``, ``input_example()``,
  ``reference_inputs()``.
- ``TabularPredictor``: a Predictor whose per-bundle input schema (``row_model``) has the training
  columns; ``preprocess`` rows -> ``(x_num, x_cat)``; subclasses write ``postprocess``.
- ``integrated_gradients`` / ``column_attributions`` / ``top_reasons``: per-column attributions of a
  TabularNet output (reason codes, global importance).
- ``design_matrix(x_num, x_cat, cardinalities)``: sparse [numerics | one-hot] for linear baselines.
- ``RiskClassifier``: a LightningModule around a one-logit TabularNet (class-weighted BCE, AdamW, one-cycle).
- ``LogisticBaseline`` / ``GradientBoostingBaseline`` (LightGBM): binary baselines on the same preprocessed
  features, with numpy/text scorers (``LinearScorer``, ``TreeScorer``) that bundles can carry without pickle.
- ``json_rows(frame)``: rows as JSON-ready dicts (NaN -> None).
- ``typical_rows(preprocessor)`` / ``typical_frame_rows(frame)``: two made-up input rows (medians, most
  frequent categories) for a bundle's input example, never a row of the data.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "GradientBoostingBaseline",
    "LinearScorer",
    "LogisticBaseline",
    "RiskClassifier",
    "TabularDataModule",
    "TabularNet",
    "TabularPredictor",
    "TabularPreprocessor",
    "TreeScorer",
    "column_attributions",
    "design_matrix",
    "integrated_gradients",
    "json_rows",
    "read_table",
    "row_model",
    "top_reasons",
    "typical_frame_rows",
    "typical_rows",
]

_HOMES = {
    "read_table": "io",
    "TabularPreprocessor": "preprocessing",
    "TabularNet": "network",
    "TabularDataModule": "datamodule",
    "json_rows": "datamodule",
    "typical_rows": "datamodule",
    "typical_frame_rows": "datamodule",
    "TabularPredictor": "predictor",
    "row_model": "predictor",
    "integrated_gradients": "attribution",
    "column_attributions": "attribution",
    "top_reasons": "attribution",
    "design_matrix": "design",
    "RiskClassifier": "classifier",
    "LogisticBaseline": "baselines",
    "GradientBoostingBaseline": "baselines",
    "LinearScorer": "baselines",
    "TreeScorer": "baselines",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"lepton_core.tabular.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'lepton_core.tabular' has no attribute {name!r}")
