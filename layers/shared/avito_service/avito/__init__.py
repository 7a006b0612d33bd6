"""The Avito API client: one per account, every request through the account's proxy."""
