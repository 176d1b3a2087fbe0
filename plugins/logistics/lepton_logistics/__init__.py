"""Lepton logistics vertical: delivery-time prediction, hub volume forecasting and vehicle routing."""
