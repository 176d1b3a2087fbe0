"""What a patient_risk bundle keeps: the TabularNet, its preprocessing, calibration and input bounds."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, RunContext
from lepton_medical_imaging.patient_risk.evaluation import calibration_methods, fit_calibrators

__all__ = ["export_patient_risk"]


def export_patient_risk(ctx: RunContext, datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The network with the calibration chosen by evaluation (fitted here on validation when none ran)."""
    calibrators = evaluation.fitted.get("calibrators") or fit_calibrators(
        model, [], datamodule, calibration_methods(ctx.cfg.task), ctx.seed
    )
    numeric = set(datamodule.preprocessor.numeric)
    bounds = {
        str(column): [float(low), float(high)]
        for column, (low, high) in (ctx.cfg.task.get("input_bounds") or {}).items()
        if column in numeric
    }
    state = {**datamodule.export_state(), "calibration": calibrators["model"].to_state(), "input_bounds": bounds}
    return Export(
        module=model.net,
        model_kwargs=model.net_kwargs(),
        state=state,
        input_example=datamodule.input_example(),
        reference_inputs=datamodule.reference_inputs(),
    )
