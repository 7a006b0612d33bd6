"""Eternal online: keep every enabled account's Messenger session alive at its own interval.

A keep-alive (``keepalive``) is a real, authenticated Messenger call: it lists the account's unread chats
through its proxy (and stores them). Avito has no "set online" endpoint; we never claim an account is online
when that call failed.

Scheduling design (``schedule`` and ``worker``)
-----------------------------------------------
EventBridge runs the tick every 5 minutes, but intervals go down to 60 s, so the tick *plans* instead of
*doing*: it puts each keep-alive of the next window on SQS with ``DelaySeconds`` and a worker runs it then.

1. Due accounts only. Enabled accounts are in the sparse GSI ``byOnlineDue`` (``onlinePk`` = ``ONLINE``
   exists only while enabled, range key ``nextDueAt``, unix s). The tick queries
   ``nextDueAt < now + window`` (window = ``schedule_window_seconds``, 300): cost grows with the accounts
   due, not with all accounts. A keep-alive due exactly at ``now + window`` belongs to the next tick.
2. Planning. For a due account: moments ``max(nextDueAt, now)``, ``+interval``, ... before ``now + window``
   (60 s -> 5 per window, 300 s -> 1, 3600 s -> 1 every 12 ticks). A past-due account starts now, without
   a burst to catch up.
3. Claim, then send. ``nextDueAt`` moves to the first unplanned moment with a conditional update
   (``nextDueAt = :seen`` and ``onlineGeneration`` unchanged); a tick that loses the race (overlapping
   ticks, an EventBridge retry) plans nothing for that account, so nothing is planned twice. The
   keep-alives are sent as the tick goes (soonest due first; ``SendMessageBatch``, 10 per call) with
   ``DelaySeconds = planned - (moment of sending)`` (0-900, the window is at most 900 s): a tick over
   10,000 accounts runs for over a minute, and delays counted from its start would make every keep-alive
   that much late. Body ``{accountId, plannedAt, generation}``. This is at most once:
   a crash between claim and send loses that window's keep-alives, never doubles them.
4. Generations. ``onlineGeneration`` goes up on enable, disable and interval change; the worker skips a
   message whose generation differs (or whose account is gone or disabled), so stale plans do nothing.
5. Worker. SQS batches of 10, handled by 8 threads; Avito and proxy failures are recorded on the account
   (``isOnline`` false, ``lastOnlineError``) and not retried (the next keep-alive comes soon anyway);
   only unexpected errors (DynamoDB, ...) are reported as batch item failures, retried, then dead-lettered.

Why SQS delays rather than a per-account EventBridge schedule or a sleeping Lambda: no per-account
infrastructure, no idle compute, one account's slowness never delays another's, and the queue gives
retries and a dead-letter queue for free.

The submodules are imported one by one (``online.schedule``, ``online.worker``, ...), not from here, so the
tick does not pay for the worker's imports and the status endpoint not for the Avito client.
"""
