"""GCP Vertex AI through google-cloud-aiplatform.

plan (pure), gcp (credentials and errors), apply, cli.
"""
