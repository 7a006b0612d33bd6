"""Background jobs: long syncs and work over every account, resumable, with bounded concurrency.

- ``sync``: the stats sync as resumable steps (start, item pages, stats batches, finish) over a cursor; the
  synchronous ``sync-stats`` runs the same steps in memory and hands the cursor over to a job when Avito's
  budget or the ~20 s answer time runs out, so both paths store the same figures and snapshot.
- ``store``: ``JobsTable`` (job header, one task per account with its cursor, collected item-id pages).
- ``runner``: creating jobs, queueing their tasks on ``JobsQueue`` and running one task step by step in the
  SQS-triggered worker (a cursor that survives retries and crashes; a task waiting for Avito's budget re-queues
  itself with a delay instead of sleeping in Lambda).
"""
