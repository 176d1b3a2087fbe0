"""Visual defect detection: unsupervised anomaly detection trained on normal images only."""
