"""HTTP serving of bundles: FastAPI app, greedy micro-batcher, Prometheus metrics, uvicorn runner."""

from lepton_core.serve.app import AccessControl, ServeSettings, create_app
from lepton_core.serve.server import ServerThread, build_app, serve_bundle

__all__ = ["AccessControl", "ServeSettings", "ServerThread", "build_app", "create_app", "serve_bundle"]
