"""Kubernetes API objects as data: kinds, defaulting, validation, selectors and patches.

Everything here is pure (dict in, dict out) so that the API server, tests and later the
controllers share one definition of what an object looks like.  ``patch/`` applies JSON patch,
merge patch, strategic merge patch and server-side apply.
"""
