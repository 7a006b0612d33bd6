"""Accounts connected by their owner's consent (Avito's authorization_code flow for partner apps, issue 28)."""
