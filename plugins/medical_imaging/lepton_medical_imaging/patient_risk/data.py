"""PatientRiskDataModule: an admissions table (plus an optional patients table) -> patient-grouped splits.

One row per admission, a patient id column, a 0/1 label (readmitted within 30 days). A separate patients
table (sex, insurance...) is joined on the patient id, as real EHR exports come in several tables.
Splits are grouped by patient: every admission of a patient lands in the same split, so the test score is
measured on patients the model never saw (admissions of one patient share much of their risk).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular.datamodule import SPLITS, TabularDataModule
from lepton_core.tabular.io import read_table
from lepton_core.tabular.preprocessing import category_key
from lepton_medical_imaging.patient_risk.demo import make_demo_tables

__all__ = ["PatientRiskDataModule", "age_band_labels", "join_patients"]

SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "valid": "val", "test": "test"}
POSITIVE, NEGATIVE = ("1", "true"), ("0", "false")
AGE_BAND = "age band"


def _ids(values: pd.Series) -> pd.Series:
    """Patient ids as canonical text (12, 12.0 and "12" are one patient)."""
    return values.map(category_key)


def join_patients(admissions: pd.DataFrame, patients: pd.DataFrame | None, patient_column: str) -> pd.DataFrame:
    """Admissions with their patient's columns joined on ``patient_column``; bad keys raise DataError."""
    if patient_column not in admissions.columns:
        shown = ", ".join(map(str, admissions.columns[:12]))
        raise DataError(
            f"patient id column '{patient_column}' not found in the admissions table (columns: {shown})",
            "set data.patient_column to the column that identifies the patient",
        )
    frame = admissions.copy()
    frame[patient_column] = _ids(frame[patient_column])
    missing = int(frame[patient_column].isna().sum())
    if missing:
        raise DataError(
            f"{missing} admission(s) have no patient id in '{patient_column}'",
            "fill the patient id of every admission or drop those rows",
        )
    if patients is None:
        return frame
    if patient_column not in patients.columns:
        raise DataError(
            f"the patients table has no patient id column '{patient_column}'",
            "name the id column the same in both tables (data.patient_column)",
        )
    people = patients.copy()
    people[patient_column] = _ids(people[patient_column])
    repeated = people[patient_column][people[patient_column].duplicated()]
    if len(repeated):
        raise DataError(
            f"the patients table lists patient '{repeated.iloc[0]}' more than once ({len(repeated)} repeated id(s))",
            "keep one row per patient in the patients table",
        )
    shared = [c for c in people.columns if c != patient_column and c in frame.columns]
    if shared:
        raise DataError(
            f"column(s) {', '.join(map(str, shared))} appear in both the admissions and the patients table",
            "rename or drop the copy in one of the tables",
        )
    unknown = ~frame[patient_column].isin(set(people[patient_column].dropna()))
    if unknown.any():
        raise DataError(
            f"{int(unknown.sum())} admission(s) have a patient id not in the patients table, "
            f"e.g. '{frame.loc[unknown, patient_column].iloc[0]}'",
            "add those patients to the patients table or drop their admissions",
        )
    return frame.merge(people, on=patient_column, how="left", validate="many_to_one")


def age_band_labels(age: pd.Series, edges: Sequence[float]) -> pd.Categorical:
    """Ordered age bands like ``<45``, ``45-64``, ``65-79``, ``80+`` (``missing`` where age is unknown)."""
    values = pd.to_numeric(age, errors="coerce").to_numpy(dtype=float)
    cuts = [float(e) for e in edges]
    labels = [f"<{cuts[0]:g}", *(f"{a:g}-{b - 1:g}" for a, b in pairwise(cuts)), f"{cuts[-1]:g}+"]
    index = np.searchsorted(cuts, values, side="right")
    named = np.where(np.isnan(values), "missing", np.array(labels, dtype=object)[np.minimum(index, len(cuts))])
    return pd.Categorical(named, categories=[*labels, "missing"], ordered=True)


class PatientRiskDataModule(TabularDataModule):
    """Admissions (+ patients) -> 0/1 readmission label -> patient-grouped splits -> TabularNet tensors."""

    stratify: ClassVar[bool] = False

    def __init__(
        self,
        patients_path: str | None = None,
        patient_column: str = "patient_id",
        split_column: str | None = None,
        subgroups: Sequence[str] = ("sex", "admission_type"),
        age_column: str | None = "age",
        age_bands: Sequence[float] = (45, 65, 80),
        n_patients: int = 3000,
        **table: Any,
    ) -> None:
        """``table``: TabularDataModule's options (path, target, features, drop, id_column...)."""
        if table.get("path") is None:
            if patients_path is not None:
                raise ConfigError("data.patients_path is set but data.path is not", "set data.path to the admissions table")
            table["id_column"] = table.get("id_column") or "admission_id"
        if table.get("time_column"):
            raise ConfigError("patient_risk splits by patient, not by time", "unset data.time_column (use data.split_column)")
        super().__init__(**table)
        self.patients_path = patients_path
        self.patient_column = patient_column
        self.split_column = split_column
        self.subgroups = [str(s) for s in subgroups or ()]
        self.age_column = age_column
        self.age_band_edges = sorted(float(e) for e in age_bands)
        if age_column and not self.age_band_edges:
            raise ConfigError("data.age_bands is empty", "give band edges like [45, 65, 80] or unset data.age_column")
        self.n_patients = int(n_patients)
        self.split_patients: dict[str, np.ndarray] = {}
        self.split_subgroups: dict[str, pd.DataFrame] = {}

    def load_frame(self) -> pd.DataFrame:
        """The admissions table joined with the patients table (or the generated demo tables)."""
        if self.path:
            admissions = read_table(self.path)
            patients = read_table(self.patients_path) if self.patients_path else None
        else:
            admissions, patients = make_demo_tables(self.n_patients, self.seed)
        return join_patients(admissions, patients, self.patient_column)

    def _check_columns(self, frame: pd.DataFrame) -> None:
        super()._check_columns(frame)
        reserved = {self.target, self.id_column}
        for key, column in (("data.patient_column", self.patient_column), ("data.split_column", self.split_column)):
            if column and column in reserved:
                raise DataError(f"{key} '{column}' is also the target or the id column", f"fix {key}")
            if column and column in self.drop:
                raise DataError(f"{key} '{column}' is also in data.drop", "remove it from data.drop")
        if self.split_column and self.split_column not in frame.columns:
            raise DataError(f"data.split_column '{self.split_column}' not found", "fix data.split_column or unset it")
        wanted = [*self.subgroups, *([self.age_column] if self.age_column else [])]
        absent = [c for c in wanted if c not in frame.columns or c in self.drop]
        if absent:
            raise DataError(
                f"subgroup column(s) {', '.join(absent)} not in the table", "fix data.subgroups / data.age_column"
            )

    def feature_columns(self, frame: pd.DataFrame) -> list[str]:
        """Every column but the target, the ids, the split column and dropped ones (or the listed features)."""
        reserved = [c for c in (self.patient_column, self.split_column) if c]
        clash = [c for c in self.features or () if c in reserved]
        if clash:
            raise DataError(f"feature list includes the patient id or split column ({', '.join(clash)})", "fix data.features")
        return super().feature_columns(frame.drop(columns=reserved))

    def encode_target(self, values: pd.Series) -> np.ndarray:
        """1 = readmitted, 0 = not; any other value, or a single class, raises DataError."""
        keys = values.map(category_key)
        bad = sorted(set(keys.dropna()) - {*POSITIVE, *NEGATIVE})
        if bad:
            shown = ", ".join(repr(v) for v in bad[:4])
            raise DataError(
                f"label column '{self.target}' must hold 0 or 1, but has {shown}",
                "encode the outcome as 1 (readmitted) and 0 (not readmitted)",
            )
        y = keys.isin(POSITIVE).to_numpy(dtype=np.float32)
        if y.min() == y.max():
            raise DataError(f"label column '{self.target}' has a single class ({int(y[0])})", "give a table with both outcomes")
        return y

    def split_indices(self, frame: pd.DataFrame, y: np.ndarray) -> dict[str, np.ndarray]:
        """Patient-grouped positions of each split: from ``split_column``, or random patients by a seeded shuffle."""
        patients = frame[self.patient_column].to_numpy()
        splits = self._given_splits(frame, patients) if self.split_column else self._grouped_splits(patients)
        for split in SPLITS:
            if len(splits[split]) == 0:
                raise DataError(
                    f"the {split} split has no admissions ({len(np.unique(patients))} patients in all)",
                    "give more patients" if not self.split_column else f"put some patients in '{split}'",
                )
        groups = pd.DataFrame({c: frame[c].astype(str).where(frame[c].notna(), "missing") for c in self.subgroups})
        if self.age_column:
            groups[AGE_BAND] = age_band_labels(frame[self.age_column], self.age_band_edges)
        for split, rows in splits.items():
            self.split_patients[split] = patients[rows]
            self.split_subgroups[split] = groups.iloc[rows].reset_index(drop=True)
        return splits

    def _grouped_splits(self, patients: np.ndarray) -> dict[str, np.ndarray]:
        unique, inverse, counts = np.unique(patients, return_inverse=True, return_counts=True)
        order = np.random.default_rng(self.seed).permutation(len(unique))
        cumulative = np.cumsum(counts[order])
        n = len(patients)
        n_test, n_val = n * self.test_fraction, n * self.val_fraction
        rank = np.empty(len(unique), dtype=int)
        rank[order] = np.arange(len(unique))
        # test takes patients until it holds test_fraction of the admissions, then val, then train the rest
        test_patients = cumulative < n_test
        val_patients = ~test_patients & (cumulative < n_test + n_val)
        where = np.where(test_patients, 2, np.where(val_patients, 1, 0))[rank[inverse]]
        return {split: np.flatnonzero(where == k) for k, split in ((0, "train"), (1, "val"), (2, "test"))}

    def _given_splits(self, frame: pd.DataFrame, patients: np.ndarray) -> dict[str, np.ndarray]:
        names = frame[self.split_column].astype(str).str.strip().str.lower()
        unknown = sorted(set(names) - set(SPLIT_NAMES))
        if unknown:
            raise DataError(
                f"split column '{self.split_column}' has values other than train/val/test, like {unknown[0]!r}",
                "use train, val (or validation) and test",
            )
        split = names.map(SPLIT_NAMES).to_numpy()
        per_patient = pd.Series(split).groupby(patients).nunique()
        straddling = per_patient[per_patient > 1]
        if len(straddling):
            first = straddling.index[0]
            found = sorted(set(split[patients == first]))
            raise DataError(
                f"patient '{first}' has admissions in both {' and '.join(found)} (split column '{self.split_column}'; "
                f"{len(straddling)} such patient(s))",
                "put all admissions of a patient in one split",
            )
        return {s: np.flatnonzero(split == s) for s in SPLITS}

    def setup(self, stage: str | None = None) -> None:
        """Load, join, split by patient, encode (see TabularDataModule); every split must hold both outcomes."""
        if self.tensors:
            return
        super().setup(stage)
        for split in SPLITS:
            positives = int(self.targets[split].sum())
            if positives in (0, len(self.targets[split])):
                which = "no readmissions" if positives == 0 else "only readmissions"
                raise DataError(
                    f"the {split} split has {which} ({len(self.targets[split])} admissions)",
                    "give more patients, or a split in which both outcomes occur",
                )

    def model_kwargs(self) -> dict[str, Any]:
        """Network sizes plus the training readmission rate."""
        return {**super().model_kwargs(), "positive_rate": float(self.targets["train"].mean())}

    def summary(self) -> dict[str, Any]:
        """Tabular summary plus patients and readmission rate per split."""
        summary = super().summary()
        summary["split"] = (
            f"by patient, from column '{self.split_column}'" if self.split_column else "random by patient (seeded)"
        )
        summary["target"] = f"{self.target} (1 = readmitted)"
        for split in SPLITS:
            summary[f"{split} patients"] = len(np.unique(self.split_patients[split]))
            summary[f"{split} readmission rate"] = round(float(self.targets[split].mean()), 4)
        return summary
