"""AWS SageMaker through boto3.

plan (pure), artifacts (ECR image, S3 weights), aws (client and errors), apply, cli.
"""
