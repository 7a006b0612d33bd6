"""Call tracking: an account's calls (stored) and short-lived links to their recordings (never stored)."""
