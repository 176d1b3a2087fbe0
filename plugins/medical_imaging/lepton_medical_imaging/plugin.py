"""Hook implementations of lepton-medical-imaging. Imports nothing heavy at module level."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, PluginInfo, RunContext, TaskInfo, hookimpl

__version__ = "0.1.0"


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the medical imaging plugin."""
    return PluginInfo(
        name="medical_imaging",
        version=__version__,
        summary="Medical image classification (image folders, DICOM, MedMNIST .npz) with clinical metrics and Grad-CAM; "
        "readmission risk from EHR tables.",
        tasks=(
            TaskInfo(
                "image_classification",
                "Classify scans into two or more classes; ROC-AUC with CI, sensitivity/specificity, Grad-CAM.",
                predictor="lepton_medical_imaging.predictor:MedicalImagePredictor",  # in code, never from a bundle
            ),
            TaskInfo(
                "patient_risk",
                "30-day readmission risk from admission tables; patient-grouped splits, calibration, subgroups.",
                predictor="lepton_medical_imaging.patient_risk.predictor:PatientRiskPredictor",
            ),
            TaskInfo(
                "pathology",
                "Tumour vs normal slides from tiled TIFFs: gated-attention MIL over tissue tiles, attention heatmaps.",
                predictor="lepton_medical_imaging.pathology.predictor:PathologyPredictor",
            ),
        ),
        default_task="image_classification",
        config_package="lepton_medical_imaging.configs",
    )


@hookimpl
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Clinical classification metrics, plots and Grad-CAM overlays on the test split."""
    if ctx.task == "patient_risk":
        from lepton_medical_imaging.patient_risk.evaluation import evaluate_patient_risk

        return evaluate_patient_risk(ctx, datamodule, model, baselines)
    if ctx.task == "pathology":
        from lepton_medical_imaging.pathology.evaluation import evaluate_pathology

        return evaluate_pathology(ctx, datamodule, model, baselines)
    from lepton_medical_imaging.evaluation import evaluate

    return evaluate(ctx, datamodule, model, baselines)




@hookimpl
def lepton_export(ctx: RunContext, datamodule: Any, model: Any) -> Export | None:
    """patient_risk: the network with its calibration; pathology: the MIL network and its tiling; the imaging
    task uses the core's default export."""
    if ctx.task == "pathology":
        from lepton_medical_imaging.pathology.export import export_pathology

        return export_pathology(ctx, datamodule, model, None)
    if ctx.task != "patient_risk":
        return None
    from lepton_medical_imaging.patient_risk.export import export_patient_risk

    return export_patient_risk(ctx, datamodule, model)
