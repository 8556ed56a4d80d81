"""The HTTP service: SPARQL 1.1 endpoint, JSON API, dereferenceable IRIs and pages (FastAPI)."""
