"""The client card (issue 26): who the client is, their phone numbers, the item, their other chats."""
