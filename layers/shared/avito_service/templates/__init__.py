"""Quick replies (issue 26): shared and personal answer templates with placeholders, rendered for a chat."""
