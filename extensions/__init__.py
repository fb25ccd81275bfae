"""Jinja extensions of the template (loaded by copier-template-extensions)."""
