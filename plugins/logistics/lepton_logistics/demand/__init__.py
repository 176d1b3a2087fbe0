"""Parcel volume forecasting per hub."""
