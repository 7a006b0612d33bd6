"""Live updates over the WebSocket API (contract: "Live updates (WebSocket)").

- :mod:`.store`: the ConnectionsTable (connection id -> caller, role, account filter; ``ttl``).
- :mod:`.actions`: what a client may send on ``$default`` (``ping``, ``subscribe``) and the answers.
- :mod:`.frames`: which MessengerTable stream records become which frames (``avito-new-message``,
  ``avito-chat-updated``, ``avito-notification``), built with ``chat_from_item`` / ``message_from_item``.
- :mod:`.fanout`: posts each frame to every connection whose filter allows the frame's account, through
  the management API, and drops connections that are gone (410).

Writers of MessengerTable never call this package: the table's stream is the one source of events, so
whatever stored a message (a webhook delivery, a live listing, a send, a keep-alive) announces it once.
"""
