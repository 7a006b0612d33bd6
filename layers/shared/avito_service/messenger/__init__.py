"""Messenger storage: chats and messages of every account, as the contract returns them (``models``), kept in
the MessengerTable (``store``). Filled by the live Messenger endpoints and by the webhook receiver."""
