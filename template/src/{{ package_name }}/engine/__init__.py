"""Dynamic batching: one engine for every route, protocol and task (see batcher.py)."""
