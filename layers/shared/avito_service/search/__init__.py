"""Search over the chats the caller may see (issue 26): an inverted index in DynamoDB keyed by word prefix."""
