"""Avito Messenger webhooks: per-account URL secrets (``tokens``) and accepting deliveries (``deliveries``)."""
