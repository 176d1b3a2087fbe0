"""Lepton manufacturing vertical: visual defect detection and predictive maintenance."""
