"""Automatic replies per account: the greeting and the out-of-hours reply (contract, "Answering faster")."""
