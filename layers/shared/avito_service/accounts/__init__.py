"""Accounts: models, DynamoDB store, Secrets Manager vault and the service that ties them together, plus what
belongs to one account: its connection check, its stats snapshots and the cleanup after its deletion."""
