"""Kubernetes: the k8s/ overlays rendered in Python and applied with the official client.

manifests (render, pure), apply (server-side apply), rollout (wait, roll back), cli.
"""
