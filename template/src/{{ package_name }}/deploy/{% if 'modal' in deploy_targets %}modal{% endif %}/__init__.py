"""Modal serverless GPUs.

app (the Modal app definition), check (smoke test of its endpoint), cli.
"""
