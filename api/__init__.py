"""The grading service: a FastAPI app, its job queue (local worker pool or Redis/RQ) and a web page.

Entry point: ``python -m api serve`` (see ``api/__main__.py``).
"""
__version__ = "0.1.0"
