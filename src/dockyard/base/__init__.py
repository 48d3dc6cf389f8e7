"""Shared ground for every layer: error categories, digests, identifiers, paths, SQLite, clock, logging.

Modules here import only the standard library, so any layer (even the runtime, on the hot path
of every container start) can use them at no cost.
"""
