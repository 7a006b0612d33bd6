"""Reviews of an account and the rating they make: read from Avito, stored, answered (reviews.json)."""
