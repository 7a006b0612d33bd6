"""The audit log: who changed what (accounts, users, assignments, webhooks, eternal online), newest first.

``models`` (the entry on the wire), ``store`` (AuditTable), ``service`` (recording with secrets removed).
"""
