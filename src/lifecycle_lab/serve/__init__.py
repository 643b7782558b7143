"""Serving the ticket classifier: a REST API (FastAPI) and a scheduled batch job (SQLAlchemy)."""
