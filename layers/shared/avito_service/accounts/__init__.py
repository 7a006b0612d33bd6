"""Accounts: models, DynamoDB repository, Secrets Manager vault and the service that ties them together."""
