"""Lepton retail plugin: sales forecasting (global neural forecaster with quantiles) and product recommendation."""
