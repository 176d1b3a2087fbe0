"""Generated EHR-style demo tables: patients and their admissions, labelled with 30-day readmission.

Two tables, as real exports come: ``patients`` (one row per patient: sex, insurance) and ``admissions``
(one row per hospital stay: age, admission type, diagnosis group, comorbidities, length of stay, prior
use, labs with gaps, discharge disposition, and the label ``readmitted_30d``). Deterministic for a seed.

The label follows a logistic model with smooth effects a linear model on the raw columns cannot
represent: U-shaped sodium, comorbidities weighing more with age, creatinine worse with age, anaemia
below 11.5 g/dL, short stays raising the risk for heart failure only, old patients discharged home
alone, low albumin after a long stay; and a per-patient frailty shared by every admission of a patient
(so a split that let a patient straddle train and test would flatter the score).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DIAGNOSES", "make_demo_tables"]

# diagnosis group -> (share of admissions, effect on the log-odds of readmission)
DIAGNOSES: dict[str, tuple[float, float]] = {
    "heart_failure": (0.12, 0.55),
    "copd": (0.10, 0.45),
    "pneumonia": (0.12, 0.15),
    "sepsis": (0.08, 0.35),
    "diabetes": (0.08, 0.25),
    "renal_failure": (0.07, 0.45),
    "stroke": (0.07, 0.10),
    "fracture": (0.08, -0.25),
    "elective_surgery": (0.13, -0.70),
    "other": (0.15, -0.10),
}
ADMISSION_TYPES = ("emergency", "urgent", "elective")
DISPOSITIONS = {"home": -0.10, "home_health": 0.15, "skilled_nursing": 0.35, "rehab": 0.05, "against_advice": 0.95}
INSURANCE = ("medicare", "medicaid", "private", "self_pay")


def make_demo_tables(n_patients: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(admissions, patients) for ``n_patients`` patients with 1 to 8 admissions each (about 2.6 on average)."""
    rng = np.random.default_rng(seed)
    patient_ids = np.array([f"P{i:06d}" for i in range(n_patients)])
    sex = rng.choice(["F", "M"], n_patients, p=[0.52, 0.48])
    first_age = np.clip(rng.normal(64, 16, n_patients), 18, 98)
    frailty = rng.normal(0.0, 0.55, n_patients)
    insurance = np.where(
        first_age >= 65, "medicare", rng.choice(INSURANCE, n_patients, p=[0.05, 0.3, 0.55, 0.1])
    )
    counts = np.minimum(1 + rng.poisson(np.exp(0.35 + 0.6 * frailty)), 8)
    patients = pd.DataFrame({"patient_id": patient_ids, "sex": sex, "insurance": insurance})

    owner = np.repeat(np.arange(n_patients), counts)
    order = np.concatenate([np.arange(c) for c in counts])  # 0 = the patient's first admission
    n = len(owner)
    gap_years = rng.exponential(0.7, n) * (order > 0)
    age = np.clip(first_age[owner] + _per_patient_cumsum(gap_years, owner), 18, 100).round()
    prior_12m = np.minimum(order, rng.poisson(0.6 + 0.8 * np.clip(frailty[owner], 0, None)) + (order > 0))
    diag_names = np.array(list(DIAGNOSES))
    diag_share = np.array([share for share, _ in DIAGNOSES.values()])
    diagnosis = diag_names[rng.choice(len(diag_names), n, p=diag_share / diag_share.sum())]
    elective = diagnosis == "elective_surgery"
    admission_type = np.where(
        elective, "elective", rng.choice(ADMISSION_TYPES, n, p=[0.7, 0.2, 0.1])
    )
    comorbidities = np.minimum(rng.poisson(0.8 + 0.03 * np.clip(age - 40, 0, None) + 0.8 * np.clip(frailty[owner], 0, None)), 12)
    los = np.maximum(1, np.round(rng.lognormal(1.2 + 0.04 * comorbidities - 0.3 * elective, 0.6))).astype(int)
    ed_visits = rng.poisson(0.4 + 0.5 * np.clip(frailty[owner], 0, None) + 0.2 * (order > 0))
    medications = np.maximum(0, np.round(rng.normal(4 + 1.2 * comorbidities, 2.5))).astype(int)
    sodium = rng.normal(138.5, 3.8, n)
    creatinine = rng.lognormal(np.log(0.95) + 0.12 * (diagnosis == "renal_failure") * 4, 0.35)
    hemoglobin = rng.normal(12.8 - 0.15 * comorbidities, 1.7, n)
    albumin = rng.normal(3.7 - 0.08 * comorbidities, 0.5, n)
    lives_alone = rng.random(n) < np.where(age >= 75, 0.4, 0.15)
    disposition_names = np.array(list(DISPOSITIONS))
    disposition_p = np.where(
        (age >= 75)[:, None], [0.45, 0.2, 0.22, 0.1, 0.03], [0.72, 0.1, 0.06, 0.08, 0.04]
    )
    disposition = disposition_names[(rng.random(n)[:, None] > np.cumsum(disposition_p, axis=1)).sum(axis=1).clip(0, 4)]

    z_age = (age - 65.0) / 15.0
    z_comorbid = np.clip((comorbidities - 2.5) / 2.0, -2.0, 3.0)
    logit = (
        -3.35
        + 0.45 * frailty[owner]
        + 0.25 * np.minimum(prior_12m, 4)
        + 0.15 * np.minimum(ed_visits, 3)
        + np.array([DIAGNOSES[d][1] for d in diagnosis])
        + np.array([DISPOSITIONS[d] for d in disposition])
        + 0.05 * np.minimum((sodium - 139.0) ** 2, 60)  # hypo- and hypernatraemia both raise the risk
        + 0.55 * z_age * z_comorbid  # comorbidities weigh more the older the patient
        + 0.9 * np.log(creatinine) * (1.0 + 0.5 * z_age)  # renal function, worse with age
        + 0.3 * np.maximum(0.0, 11.5 - hemoglobin)  # anaemia
        + 1.1 * (diagnosis == "heart_failure") * np.exp(-(los - 1.0) / 2.0)  # heart failure sent home too early
        + 0.9 * lives_alone * (disposition == "home") / (1.0 + np.exp(-(age - 75.0) / 3.0))  # old, alone, home
        + 0.5 * np.maximum(0.0, 3.6 - albumin) * np.log1p(los)  # malnourished after a long stay
        + 0.15 * (insurance[owner] == "medicaid")
    )
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)

    # labs are ordered for most emergency stays, less for elective ones; albumin least often
    def gaps(values: np.ndarray, rate_emergency: float, rate_elective: float) -> np.ndarray:
        rate = np.where(elective | (admission_type == "elective"), rate_elective, rate_emergency)
        return np.where(rng.random(n) < rate, np.nan, values)

    admissions = pd.DataFrame(
        {
            "admission_id": [f"A{i:07d}" for i in range(n)],
            "patient_id": patient_ids[owner],
            "age": age.astype(int),
            "admission_type": admission_type,
            "diagnosis_group": diagnosis,
            "comorbidity_count": comorbidities,
            "length_of_stay": los,
            "prior_admissions_12m": prior_12m,
            "ed_visits_6m": ed_visits,
            "n_medications": medications,
            "lab_sodium": gaps(sodium.round(1), 0.05, 0.25),
            "lab_creatinine": gaps(creatinine.round(2), 0.05, 0.25),
            "lab_hemoglobin": gaps(hemoglobin.round(1), 0.04, 0.2),
            "lab_albumin": gaps(albumin.round(1), 0.35, 0.6),
            "lives_alone": np.where(lives_alone, "yes", "no"),
            "discharge_disposition": disposition,
            "readmitted_30d": label,
        }
    )
    return admissions, patients


def _per_patient_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each patient (rows are grouped by ``owner``)."""
    total = np.cumsum(values)
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    offsets = np.repeat(total[starts] - values[starts], np.diff(np.r_[starts, len(owner)]))
    return total - offsets
