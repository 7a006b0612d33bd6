"""Jobs table access.

Access patterns and keys (table ``JobsTable``, keys ``pk``/``sk``, every item expires by ``ttl`` after 30 days):

| pattern                                   | key                                                             |
|-------------------------------------------|-----------------------------------------------------------------|
| a job (kind, status, counts)              | pk ``JOB#<jobId>``, sk ``JOB``                                   |
| its tasks, one per account (outcome, cursor, lease) | pk ``JOB#<jobId>``, sk ``TASK#<order>#<accountId>``    |
| a sync task's collected item-id pages     | pk ``PAGES#<jobId>#<accountId>``, sk ``<page>`` (zero-padded)     |
| the one sync running for an account       | pk ``SYNC#<accountId>``, sk ``LOCK`` (``jobId``, ``order``, until) |
| a backfill task's chat ids, by listing page | pk ``CHATS#<jobId>#<accountId>``, sk ``<page>`` (zero-padded)   |

A job and its tasks are one query (``GET /jobs/{jobId}``); item-id pages live in their own partition so that
query never reads them. A task finishes in one transaction with its job's counters (``ADD done``/``failed``),
conditional on the task not being finished yet, so a retried or duplicated message never counts twice.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.jobs.models import FINAL, JobStatus

HEADER = "JOB"
TTL_SECONDS = 30 * 86400


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": HEADER}


def task_key(job_id: str, order: int, account_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": f"TASK#{order:06d}#{account_id}"}


def sync_lock_key(account_id: str) -> dict[str, str]:
    return {"pk": f"SYNC#{account_id}", "sk": "LOCK"}


class JobStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def table(self) -> Any:
        return aws.table(self.table_name)

    # --- creating and reading ---------------------------------------------------------------------------

    def create(
        self, job_id: str, header: dict[str, Any], tasks: list[dict[str, Any]], *, now: float | None = None
    ) -> None:
        """The job's tasks first, then its header: a reader never sees a job whose tasks are missing."""
        expires = int((now or clock.now()) + TTL_SECONDS)
        with self.table.batch_writer() as batch:
            for order, task in enumerate(tasks):
                batch.put_item(
                    Item=dynamo.to_dynamo(
                        {**task_key(job_id, order, task["accountId"]), "order": order, "ttl": expires, **task}
                    )
                )
        self.table.put_item(
            Item=dynamo.to_dynamo({**job_key(job_id), "ttl": expires, **header}),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def add_tasks(self, job_id: str, tasks: list[dict[str, Any]], *, now: float | None = None) -> None:
        """Tasks ``{order, accountId, ...}`` of a job being set up; one already there (a repeated set-up step) is
        left as it is, so a task that started running is never reset."""
        expires = int((now or clock.now()) + TTL_SECONDS)
        for task in tasks:
            try:
                self.table.put_item(
                    Item=dynamo.to_dynamo(
                        {**task_key(job_id, task["order"], task["accountId"]), "ttl": expires, **task}
                    ),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as exc:
                if not dynamo.condition_failed(exc):
                    raise

    def advance_setup(self, job_id: str, cursor: str, next_cursor: str | None, total: int) -> bool:
        """Move the set-up past the page at ``cursor`` (``total`` tasks so far); the last page ends the set-up.
        False when another run of the same step did it first."""
        expression = "SET #total = :total, updatedAt = :at, setupCursor = :next"
        if next_cursor is None:
            expression = "SET #total = :total, updatedAt = :at REMOVE setupCursor, settingUp"
        values: dict[str, Any] = {":total": total, ":at": clock.iso(), ":cursor": cursor}
        if next_cursor is not None:
            values[":next"] = next_cursor
        try:
            self.table.update_item(
                Key=job_key(job_id),
                UpdateExpression=expression,
                ConditionExpression="setupCursor = :cursor",
                ExpressionAttributeNames={"#total": "total"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def job(self, job_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The header and every task, in order (one paginated query)."""
        items = list(
            dynamo.query_all(
                self.table.query, KeyConditionExpression=Key("pk").eq(f"JOB#{job_id}"), ConsistentRead=True
            )
        )
        header = next((dynamo.to_python(i) for i in items if i["sk"] == HEADER), None)
        tasks = [dynamo.to_python(i) for i in items if i["sk"].startswith("TASK#")]
        return header, tasks

    def tasks_page(self, job_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the job's tasks in order (``limit`` + 1 read, so the last page has no cursor)."""
        pk = f"JOB#{job_id}"
        return dynamo.query_page(
            self.table.query,
            {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with("TASK#"), "ConsistentRead": True},
            limit=limit,
            cursor=cursor,
            key_attrs=("pk", "sk"),
            belongs=lambda start: start["pk"] == pk and str(start["sk"]).startswith("TASK#"),
            convert=dynamo.to_python,
            refusal="Not a cursor of this job.",
        )

    def task(self, job_id: str, order: int, account_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=task_key(job_id, order, account_id), ConsistentRead=True).get("Item")
        return dynamo.to_python(item) if item else None

    def header(self, job_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=job_key(job_id), ConsistentRead=True).get("Item")
        return dynamo.to_python(item) if item else None

    # --- running a task ---------------------------------------------------------------------------------

    def claim(self, job_id: str, order: int, account_id: str, owner: str, until: float) -> dict[str, Any] | None:
        """Lease an unfinished task to ``owner`` until ``until``; None when it is finished or leased to another."""
        now = clock.now()
        try:
            item = self.table.update_item(
                Key=task_key(job_id, order, account_id),
                UpdateExpression="SET leaseOwner = :owner, leaseUntil = :until, #status = :running, updatedAt = :at",
                ConditionExpression=(
                    "attribute_exists(pk) AND NOT #status IN (:done, :failed) AND "
                    "(attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":owner": owner,
                    ":until": Decimal(str(round(until, 3))),
                    ":now": Decimal(str(round(now, 3))),
                    ":running": JobStatus.RUNNING.value,
                    ":done": JobStatus.DONE.value,
                    ":failed": JobStatus.FAILED.value,
                    ":at": clock.iso(now),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return None
            raise
        self._mark_job_running(job_id, now)
        return dynamo.to_python(item)

    def _mark_job_running(self, job_id: str, now: float) -> None:
        try:
            self.table.update_item(
                Key=job_key(job_id),
                UpdateExpression="SET #status = :running, updatedAt = :at",
                ConditionExpression="#status = :queued",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": JobStatus.RUNNING.value,
                    ":queued": JobStatus.QUEUED.value,
                    ":at": clock.iso(now),
                },
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def save_cursor(self, job_id: str, order: int, account_id: str, owner: str, cursor: dict[str, Any]) -> bool:
        """Store the task's cursor while ``owner`` holds the lease; False when it lost it."""
        try:
            self.table.update_item(
                Key=task_key(job_id, order, account_id),
                UpdateExpression="SET #cursor = :cursor, updatedAt = :at",
                ConditionExpression="leaseOwner = :owner",
                ExpressionAttributeNames={"#cursor": "cursor"},
                ExpressionAttributeValues={":cursor": dynamo.to_dynamo(cursor), ":owner": owner, ":at": clock.iso()},
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def release(self, job_id: str, order: int, account_id: str, owner: str) -> None:
        """Give the lease up (the task waits for Avito's budget in a delayed message)."""
        try:
            self.table.update_item(
                Key=task_key(job_id, order, account_id),
                UpdateExpression="REMOVE leaseOwner, leaseUntil",
                ConditionExpression="leaseOwner = :owner",
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def finish(self, job_id: str, order: int, account_id: str, status: JobStatus, fields: dict[str, Any]) -> bool:
        """The task's outcome and the job's counter, in one transaction; False when it was finished already."""
        now = clock.iso()
        counter = "done" if status == JobStatus.DONE else "failed"
        expression = dynamo.Expression()
        done, failed = expression.value(JobStatus.DONE.value), expression.value(JobStatus.FAILED.value)
        condition = f"attribute_exists(pk) AND NOT {expression.name('status')} IN ({done}, {failed})"
        task_update = dynamo.update_expression(
            set_values={"status": status.value, "updatedAt": now, **dynamo.to_dynamo(fields)},
            remove={"leaseOwner", "leaseUntil"},
            conditions=[condition],
            expression=expression,
        )
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": task_key(job_id, order, account_id),
                            **task_update,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": job_key(job_id),
                            "UpdateExpression": "ADD #counter :one SET updatedAt = :at",
                            "ExpressionAttributeNames": {"#counter": counter},
                            "ExpressionAttributeValues": {":one": 1, ":at": now},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def complete_if_finished(self, job_id: str) -> dict[str, Any] | None:
        """Once every task is finished, set the job's final status (done, or failed when no account succeeded)."""
        header = self.header(job_id)
        if header is None or header.get("status") in FINAL or header.get("settingUp"):
            return header  # a job still being set up has tasks to come
        done, failed, total = int(header.get("done", 0)), int(header.get("failed", 0)), int(header["total"])
        if done + failed < total:
            return header
        status = JobStatus.FAILED if failed and not done else JobStatus.DONE
        error = None
        if failed:
            error = header.get("firstError") if total == 1 else f"{failed} of {total} accounts failed; see outcomes."
        values: dict[str, Any] = {":status": status.value, ":at": clock.iso(), ":done": JobStatus.DONE.value}
        values[":failed"] = JobStatus.FAILED.value
        expression = "SET #status = :status, updatedAt = :at"
        if error:
            expression += ", #error = :error"
            values[":error"] = error
        try:
            self.table.update_item(
                Key=job_key(job_id),
                UpdateExpression=expression,
                ConditionExpression="NOT #status IN (:done, :failed)",
                ExpressionAttributeNames={"#status": "status", **({"#error": "error"} if error else {})},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
        return self.header(job_id)

    def note_first_error(self, job_id: str, error: str) -> None:
        self.table.update_item(
            Key=job_key(job_id),
            UpdateExpression="SET firstError = if_not_exists(firstError, :error)",
            ExpressionAttributeValues={":error": error[:500]},
        )

    # --- one sync per account ---------------------------------------------------------------------------

    def lock_sync(self, account_id: str, job_id: str, order: int, until: float) -> dict[str, Any] | None:
        """Take (or renew) the account's sync lock for the job's task until ``until``; None when this task holds
        it now, else the holder ``{jobId, order}`` (another job syncs the account right now)."""
        now = clock.now()
        for _ in range(3):  # a holder whose lock ran out between our write and our read: try again
            try:
                self.table.update_item(
                    Key=sync_lock_key(account_id),
                    UpdateExpression="SET jobId = :job, #order = :order, lockUntil = :until, #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(pk) OR lockUntil < :now OR jobId = :job",
                    ExpressionAttributeNames={"#order": "order", "#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":job": job_id,
                        ":order": order,
                        ":until": Decimal(str(round(until, 3))),
                        ":now": Decimal(str(round(now, 3))),
                        ":ttl": int(until + 86400),
                    },
                )
            except ClientError as exc:
                if not dynamo.condition_failed(exc):
                    raise
                holder = self.sync_holder(account_id)
                if holder is not None:
                    return holder
                continue
            return None
        return self.sync_holder(account_id) or {"jobId": job_id, "order": order}

    def sync_holder(self, account_id: str) -> dict[str, Any] | None:
        """The job task syncing the account now (its lock not run out), or None."""
        item = self.table.get_item(Key=sync_lock_key(account_id), ConsistentRead=True).get("Item")
        if not item or float(item.get("lockUntil", 0)) < clock.now():
            return None
        return {"jobId": str(item["jobId"]), "order": int(item.get("order", 0))}

    def unlock_sync(self, account_id: str, job_id: str) -> None:
        """The job's sync of the account is over (done or failed): the next sync may start."""
        try:
            self.table.delete_item(
                Key=sync_lock_key(account_id),
                ConditionExpression="jobId = :job",
                ExpressionAttributeValues={":job": job_id},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def set_task_fields(self, job_id: str, order: int, account_id: str, fields: dict[str, Any]) -> None:
        """Set fields of an unfinished task (a hand-off's cursor, the job it joined)."""
        self.table.update_item(
            Key=task_key(job_id, order, account_id),
            **dynamo.update_expression(set_values=dynamo.to_dynamo(fields), conditions=["attribute_exists(pk)"]),
        )

    # --- item-id pages of a sync task -------------------------------------------------------------------

    def put_page(self, job_id: str, account_id: str, page: int, ids: list[int]) -> None:
        self.table.put_item(
            Item={
                "pk": f"PAGES#{job_id}#{account_id}",
                "sk": f"{page:06d}",
                "ids": ids,
                "ttl": int(clock.now() + TTL_SECONDS),
            }
        )

    def pages(self, job_id: str, account_id: str, first: int, count: int) -> list[list[int]]:
        """Pages ``first`` .. ``first + count - 1`` (those that exist), in order."""
        found = (
            self.table.query(
                KeyConditionExpression=Key("pk").eq(f"PAGES#{job_id}#{account_id}")
                & Key("sk").between(f"{first:06d}", f"{first + count - 1:06d}"),
                ConsistentRead=True,
            ).get("Items")
            or []
        )
        return [[int(i) for i in item["ids"]] for item in found]

    # --- a backfill task's chat ids (jobs/backfill.py), one listing page an item ------------------------

    def put_chat_page(self, job_id: str, account_id: str, page: int, chat_ids: list[str]) -> None:
        self.table.put_item(
            Item={
                "pk": f"CHATS#{job_id}#{account_id}",
                "sk": f"{page:06d}",
                "chatIds": chat_ids,
                "ttl": int(clock.now() + TTL_SECONDS),
            }
        )

    def chat_page(self, job_id: str, account_id: str, page: int) -> list[str]:
        key = {"pk": f"CHATS#{job_id}#{account_id}", "sk": f"{page:06d}"}
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        return [str(c) for c in item.get("chatIds") or []]

    def set_progress(self, job_id: str, done: int, total: int) -> None:
        """A backfill's progress in chats, shown as the job's ``done``/``total`` (``service.get_job``)."""
        self.table.update_item(
            Key=job_key(job_id),
            UpdateExpression="SET chatsDone = :done, chatsTotal = :total, updatedAt = :at",
            ExpressionAttributeValues={":done": done, ":total": total, ":at": clock.iso()},
        )


@functools.cache
def _store(table_name: str) -> JobStore:
    return JobStore(table_name)


def job_store() -> JobStore:
    return _store(get_settings().jobs_table)
