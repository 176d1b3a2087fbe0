"""Predictive maintenance: remaining-useful-life regression from multivariate sensor time series."""
