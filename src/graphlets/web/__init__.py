"""The web UI and JSON API (FastAPI + Jinja2): thin pages over the same views as ``/api``."""

from graphlets.web.app import create_app

__all__ = ["create_app"]
