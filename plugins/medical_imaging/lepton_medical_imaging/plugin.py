"""Hook implementations of lepton-medical-imaging. Imports nothing heavy at module level.

Everything else comes from the task config (data, model, baselines, ``task.evaluate``).
"""

from __future__ import annotations

from lepton_core import PluginInfo, TaskInfo, hookimpl

__version__ = "0.1.0"


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the medical imaging plugin."""
    return PluginInfo(
        name="medical_imaging",
        version=__version__,
        summary="Medical image classification (image folders, DICOM, MedMNIST .npz) with clinical metrics and Grad-CAM; "
        "readmission risk from EHR tables; tumour detection on tiled TIFF slides.",
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
