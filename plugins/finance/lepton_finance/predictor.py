"""RiskPredictor: JSON rows with the training columns -> calibrated probability, decision, reason codes.

The probability comes from the run's champion (``state["champion"]``, see ``lepton_finance.champion``):
the network, a baseline or a blend. A baseline is rebuilt by this module's own code from its kind
(coefficients in the state, or the LightGBM text file listed and hashed in the manifest), never from a
class name in the bundle. Bundles without a champion record deploy the network, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel

from lepton_core.bundle.manifest import safe_member
from lepton_core.errors import BundleError
from lepton_core.hooks.specs import DeployContext
from lepton_core.tabular.attribution import column_attributions, top_reasons
from lepton_core.tabular.network import TabularNet
from lepton_core.tabular.predictor import TabularPredictor, row_model
from lepton_core.tabular.preprocessing import TabularPreprocessor
from lepton_finance.champion import DeployedScorer
from lepton_finance.decision import DecisionPolicy

__all__ = ["ReasonCode", "RiskPrediction", "RiskPredictor"]

Value = str | int | float | bool | None


class ReasonCode(BaseModel):
    """One input column's share of the score: its value and its contribution to the logit."""

    feature: str
    value: Value
    contribution: float
    direction: Literal["raises", "lowers"]


class RiskPrediction(BaseModel):
    """Calibrated probability of the positive outcome, the decision it implies and why."""

    id: str | int | None = None
    probability: float
    decision: str
    label: Value
    reason_codes: list[ReasonCode]


class RiskPredictor(TabularPredictor):
    """Preprocess rows, run the TabularNet, calibrate, threshold, explain with integrated gradients."""

    output_model = RiskPrediction

    def __init__(
        self,
        module: TabularNet,
        preprocessor: TabularPreprocessor,
        policy: DecisionPolicy,
        labels: tuple[Value, Value],
        decisions: dict[str, str],
        id_column: str | None = None,
        reason_codes: int = 3,
        ig_steps: int = 16,
        champion: DeployedScorer | None = None,
    ) -> None:
        super().__init__(module, preprocessor, id_column)
        self.champion = champion or DeployedScorer(1.0)
        self.policy = policy
        self.labels = labels
        self.decisions = decisions
        self.reason_codes = int(reason_codes)
        self.ig_steps = int(ig_steps)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> RiskPredictor:
        """Build from a bundle's model arguments (network sizes), config (decisions) and state (preprocessing, policy)."""
        state = ctx.state
        preprocessor = TabularPreprocessor.from_state(state["preprocessor"])
        module = ctx.build_model(TabularNet)
        id_column = state.get("id_column")
        rows = row_model("FinanceRow", preprocessor, id_column, state.get("example_row"))
        task_cfg = ctx.cfg.task
        predictor_cfg = ctx.cfg.get("predictor") or {}
        return cls.with_input_model(rows)(
            module,
            preprocessor,
            DecisionPolicy.from_state(dict(state["decision"])),
            (state["negative_label"], state["positive_label"]),
            dict(task_cfg.get("decisions") or {"positive": "flag", "negative": "pass"}),
            id_column=id_column,
            reason_codes=int(task_cfg.get("reason_codes", 3)),
            ig_steps=int(predictor_cfg.get("ig_steps", 16)),
            champion=DeployedScorer.from_state(state.get("champion") or {}, lambda name: _bundle_text(ctx, name)),
        )

    def run_module(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The champion's log-odds (batch, 1): the network's (torch or ONNX), a baseline's, or their blend."""
        if self.champion.baseline is None or self.champion.network_weight >= 1:
            return super().run_module(inputs)
        network = None
        if self.champion.uses_network:
            network = torch.as_tensor(super().run_module(inputs)).reshape(-1).double().cpu().numpy()
        logits = self.champion.logits(network, (inputs[0].cpu(), inputs[1].cpu()))
        return torch.from_numpy(logits).reshape(-1, 1)

    def postprocess(self, outputs: Any, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Probability, decision, label and the top reason codes of each row."""
        logits = torch.as_tensor(outputs).reshape(len(items), -1)[:, 0].double().cpu().numpy()
        probability = self.policy.probability(logits)
        flagged = probability >= self.policy.threshold
        reasons: list[list[dict[str, Any]]] = [[] for _ in items]
        if self.reason_codes > 0 and (self.module is not None or not self.champion.uses_network):
            frame = self.rows_frame(items)
            x_num, x_cat = self.preprocessor.transform(frame)
            network = None
            if self.champion.uses_network:
                network = column_attributions(self.module, self.preprocessor, x_num, x_cat, steps=self.ig_steps)
            attributions = self.champion.attributions(network, (x_num, x_cat), self.preprocessor)
            rows = [item.model_dump(by_alias=True) for item in items]
            reasons = top_reasons(attributions, self.preprocessor.columns, rows, k=self.reason_codes)
        return [
            {
                "id": row_id,
                "probability": float(p),
                "decision": self.decisions["positive" if flag else "negative"],
                "label": self.labels[1] if flag else self.labels[0],
                "reason_codes": codes,
            }
            for row_id, p, flag, codes in zip(self.row_ids(items), probability, np.asarray(flagged), reasons)
        ]


def _bundle_text(ctx: DeployContext, name: str) -> str:
    """A text file of the bundle that its manifest lists (and so hashes)."""
    if name not in ctx.manifest.get("files", {}):
        raise BundleError(f"bundle lacks {name} (its champion needs it)", "rebuild the bundle with `lepton run`")
    return safe_member(ctx.bundle_dir, name).read_text("utf-8")
