"""PatientRiskPredictor: admission rows (JSON or a CSV) -> raw risk score, calibrated probability, top reasons.

The input schema is built per bundle from its fitted preprocessing: one field per training column, numeric
columns bounded by ``task.input_bounds`` where the training config set them, unknown fields refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, Field

from lepton_core.hooks.specs import DeployContext
from lepton_core.metrics.calibration import BinaryCalibrator, sigmoid
from lepton_core.tabular.attribution import column_attributions, top_reasons
from lepton_core.tabular.network import TabularNet
from lepton_core.tabular.predictor import TabularPredictor, row_model
from lepton_core.tabular.preprocessing import TabularPreprocessor

__all__ = ["PatientRiskPrediction", "PatientRiskPredictor", "Reason"]


class Reason(BaseModel):
    """One input column's share of the risk: its value and its contribution to the log-odds."""

    feature: str
    value: str | int | float | bool | None
    contribution: float
    direction: Literal["raises", "lowers"]


class PatientRiskPrediction(BaseModel):
    """Readmission risk of one admission."""

    id: str | int | None = None
    risk_score: float = Field(ge=0, le=1, description="the network's raw probability (ranks admissions)")
    probability: float = Field(ge=0, le=1, description="calibrated probability of readmission within 30 days")
    reasons: list[Reason] = Field(description="the columns that moved this admission's risk most")


class PatientRiskPredictor(TabularPredictor):
    """Preprocess rows, run the TabularNet, calibrate, explain with integrated gradients."""

    output_model = PatientRiskPrediction

    def __init__(
        self,
        module: TabularNet,
        preprocessor: TabularPreprocessor,
        calibrator: BinaryCalibrator,
        id_column: str | None = None,
        reason_codes: int = 3,
        ig_steps: int = 16,
    ) -> None:
        super().__init__(module, preprocessor, id_column)
        self.calibrator = calibrator
        self.reason_codes = int(reason_codes)
        self.ig_steps = int(ig_steps)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> PatientRiskPredictor:
        """Build from a bundle's network sizes, preprocessing, calibration and input bounds."""
        state = ctx.state
        preprocessor = TabularPreprocessor.from_state(state["preprocessor"])
        id_column = state.get("id_column")
        bounds: Mapping[str, Sequence[float]] = state.get("input_bounds") or {}
        rows = row_model("AdmissionRow", preprocessor, id_column, state.get("example_row"), bounds=bounds)
        return cls.with_input_model(rows)(
            ctx.build_model(TabularNet),
            preprocessor,
            BinaryCalibrator.from_state(state.get("calibration") or {}),
            id_column=id_column,
            reason_codes=int(ctx.cfg.task.get("reason_codes", 3)),
            ig_steps=int((ctx.cfg.get("predictor") or {}).get("ig_steps", 16)),
        )

    def postprocess(self, outputs: Any, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Raw score, calibrated probability and top reasons of each row."""
        logits = torch.as_tensor(outputs).reshape(len(items), -1)[:, 0].double().cpu().numpy()
        reasons: list[list[dict[str, Any]]] = [[] for _ in items]
        if self.reason_codes > 0 and self.module is not None:
            x_num, x_cat = self.preprocess(items)
            attributions = column_attributions(self.module, self.preprocessor, x_num, x_cat, steps=self.ig_steps)
            rows = [item.model_dump(by_alias=True) for item in items]
            reasons = top_reasons(attributions, self.preprocessor.columns, rows, k=self.reason_codes)
        probability = np.clip(self.calibrator.probability(logits), 0.0, 1.0)
        return [
            {"id": row_id, "risk_score": float(s), "probability": float(p), "reasons": r}
            for row_id, s, p, r in zip(self.row_ids(items), sigmoid(logits), probability, reasons)
        ]
