"""Delivery-time (ETA) regression with P50/P90 quantiles."""
