"""30-day readmission risk from EHR-style admission tables (the medical plugin's patient_risk task)."""
