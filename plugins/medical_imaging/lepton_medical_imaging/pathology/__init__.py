"""Slide classification from tiled TIFF slides by gated-attention multiple-instance learning (the pathology task)."""
