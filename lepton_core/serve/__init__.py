"""HTTP serving of bundles (FastAPI + uvicorn)."""
