"""Nothing was lost when template.yaml became generated (issue 23): the expanded template gives every function of
the snapshot (tests/snapshots/template_facts.json, taken from the hand-written template before the rewrite: main's
at the last merge, 60 functions) the same log group, the same alarms and the same IAM grants, apart from the grant
fixes listed here on purpose.

A new function is not in the snapshot: test_template_operations holds it to the same rules (log group, alarms,
least privilege) and the IAM evaluator (tests/support/iam.py) to what its code calls.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.template_facts import SNAPSHOT, template_facts

DYNAMO = "arn:aws:dynamodb:eu-central-1:123456789012:table/"
SQS = "arn:aws:sqs:eu-central-1:123456789012:"
TOKEN_READ = {f"dynamodb:GetItem {DYNAMO}TokensTable", f"dynamodb:UpdateItem {DYNAMO}TokensTable"}
LIMITS = {f"dynamodb:GetItem {DYNAMO}AvitoLimitsTable", f"dynamodb:UpdateItem {DYNAMO}AvitoLimitsTable"}
USER_ID = {f"dynamodb:UpdateItem {DYNAMO}AccountsTable"}  # the userId Avito tells, stored on the account

# Grants deliberately taken away (over-grants) and added (missing grants the IAM evaluator found), per function.
REMOVED: dict[str, set[str]] = {
    # never called: tokens are read and refreshed with GetItem/UpdateItem (avito/tokens.py)
    **{
        f"Messenger{name}Function": {f"dynamodb:PutItem {DYNAMO}TokensTable"}
        for name in ("Blacklist", "Chat", "DeleteMessage", "Images", "VoiceFiles")
    },
    **{
        f"{name}Function": {f"dynamodb:PutItem {DYNAMO}TokensTable"}
        for name in ("ReviewsRating", "ReviewsList", "ReviewsAnswer", "CallsList", "CallsRecord", "CallsRecording")
    },
    # they read and change stored accounts only; they never call Avito
    "OnlineDisableFunction": TOKEN_READ | LIMITS,
    "OnlineStatusFunction": TOKEN_READ | LIMITS,
}
ADDED: dict[str, set[str]] = {
    "WebhookFunction": {f"dynamodb:UpdateItem {DYNAMO}AccountsTable"},  # lastWebhookAt (issue 28)
    # the chat workflow (issue 25): the fan-out arms waiting alerts and auto-assigns queued chats
    # (WorkflowAlertsPolicy)
    "WsFanoutFunction": {
        f"dynamodb:{action} {DYNAMO}MessengerTable" for action in ("GetItem", "UpdateItem", "BatchGetItem")
    }
    | {
        f"dynamodb:Query {DYNAMO}MessengerTable/index/byAssignee",
        "scheduler:CreateSchedule arn:aws:scheduler:eu-central-1:123456789012:schedule/default/wait-*",
        "iam:PassRole arn:aws:iam::123456789012:role/WorkflowSchedulerRole",
    },
    # the chat workflow (issue 25): the inbox's workflow filters read their indexes
    "ChatsListFunction": {
        f"dynamodb:Query {DYNAMO}MessengerTable/index/{index}" for index in ("byStatus", "byAssignee", "awaitingReply")
    },
    "MessengerMessagesFunction": {f"dynamodb:Query {DYNAMO}MessengerTable"} | USER_ID,
    "MessengerOnlineFunction": USER_ID,
    "MessengerChatsFunction": USER_ID,
    "MessengerSendFunction": USER_ID,
    "MessengerReadFunction": USER_ID,
    # a deleted account's chats are hidden at once: its marker is queried (accounts/store.py deleted_account_ids)
    "TemplatesRenderFunction": {f"dynamodb:Query {DYNAMO}AccountsTable"},
    "ChatsClientFunction": {f"dynamodb:Query {DYNAMO}AccountsTable"},
    "JobsGetFunction": {f"dynamodb:GetItem {DYNAMO}JobsTable"},  # the job before its paged outcomes
    # answering (issue 26): a blocked user is remembered, so automatic replies never go to them
    "MessengerBlacklistFunction": {f"dynamodb:PutItem {DYNAMO}AutoRepliesTable"},
    # people (issue 24): the operator's assigned accounts and tokensValidAfter (users/store.py), read by the
    # authorizer and the WebSocket connect; a connection's allowed accounts, read when it changes its filter
    "AuthorizerFunction": {f"dynamodb:GetItem {DYNAMO}UsersTable"},
    "WsConnectFunction": {f"dynamodb:GetItem {DYNAMO}UsersTable"},
    "WsDefaultFunction": {f"dynamodb:GetItem {DYNAMO}ConnectionsTable"},
    # issue 28: a backfill job reads the listed chats as stored; the keep-alive's reconciliation reads a changed
    # chat's stored messages
    "JobsWorkerFunction": {f"dynamodb:BatchGetItem {DYNAMO}MessengerTable"},
    "OnlineWorkerFunction": {f"dynamodb:Query {DYNAMO}MessengerTable"},
    # hardening-c (issue 22): a review answer is given once, its Idempotency-Key answer kept (avito_service.idempotency)
    "ReviewsAnswerFunction": {
        f"dynamodb:{action} {DYNAMO}IdempotencyTable" for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
    },
    # people (issue 24): every change of accounts, webhooks and eternal online is audited (AuditWritePolicy)
    **{
        f"{name}Function": {f"dynamodb:PutItem {DYNAMO}AuditTable"}
        for name in (
            "AccountsCreate",
            "AccountsUpdate",
            "AccountsDelete",
            "AccountsWebhookSubscribe",
            "AccountsWebhookUnsubscribe",
            "OnlineEnable",
            "OnlineDisable",
        )
    },
}
# Issue 28: an oauth account given keys drops its refresh token's secret.
# ... and so does the keep-alive these run inline (found by the fuzzing through the local stack's IAM check)
for _inline in ("MessengerOnlineFunction", "OnlineEnableFunction", "OnlineSetOnlineFunction"):
    ADDED[_inline] = ADDED.get(_inline, set()) | {f"dynamodb:Query {DYNAMO}MessengerTable"}
ADDED["AccountsUpdateFunction"] = ADDED.get("AccountsUpdateFunction", set()) | {
    "secretsmanager:DeleteSecret arn:aws:secretsmanager:eu-central-1:123456789012:secret:stack/accounts/*/oauth-*"
}
# SAM's SQSSendMessagePolicy grants sqs:SendMessage* (SendMessageBatch is authorized as SendMessage): replaced by
# the one action on the one queue.
SEND_STAR = {
    "AccountsDeleteFunction": "CleanupQueue",
    "AccountCleanupFunction": "CleanupQueue",
    "OnlineTickFunction": "KeepAliveQueue",
}
for _function, _queue in SEND_STAR.items():
    REMOVED.setdefault(_function, set()).add(f"sqs:SendMessage* {SQS}{_queue}")
    ADDED.setdefault(_function, set()).add(f"sqs:SendMessage {SQS}{_queue}")
# workflow-core (issue 25): the user's last $disconnect arms the offline grace period (workflow/presence.py): does
# the user hold another connection, their offline period, its one-time schedule
ADDED["WsDisconnectFunction"] = ADDED.get("WsDisconnectFunction", set()) | {
    f"dynamodb:Scan {DYNAMO}ConnectionsTable",
    f"dynamodb:PutItem {DYNAMO}MessengerTable",
    "scheduler:CreateSchedule arn:aws:scheduler:eu-central-1:123456789012:schedule/default/offline-*",
    "iam:PassRole arn:aws:iam::123456789012:role/WorkflowSchedulerRole",
}

BEFORE: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
NOW = template_facts()

# Issue 22 item 3: the Avito tokens are sealed with TokensKey, which every function that reads them (the Avito
# callers, AvitoCallerPolicy) uses.
SEAL = {
    f"kms:{action} arn:aws:kms:eu-central-1:123456789012:key/TokensKey" for action in ("GenerateDataKey", "Decrypt")
}
# Issue 28: every Avito caller may refresh an oauth account's token (the partner app's secret, the rotated refresh
# token) and records the account's health (tokenExpiresAt, messengerAvailable) and a refused refresh's auth_error.
SEAL |= {
    "secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-central-1:123456789012:secret:stack/avito-app-secret-*",
    "secretsmanager:PutSecretValue arn:aws:secretsmanager:eu-central-1:123456789012:secret:stack/accounts/*/oauth-*",
    f"dynamodb:UpdateItem {DYNAMO}AccountsTable",
}
for _function, _facts in BEFORE["functions"].items():
    if set(_facts["grants"]) >= TOKEN_READ and not REMOVED.get(_function, set()) >= TOKEN_READ:
        ADDED.setdefault(_function, set()).update(SEAL - set(_facts["grants"]))
# answering3 (issue 26): the client card asks Avito CPA's phonesInfoFromChats at most once a minute per account
# (AvitoCallerPolicy, the account's context) and keeps the account's CPA state and results (pk ACCOUNT#<id>#CPA)
ADDED["ChatsClientFunction"] = (
    ADDED.get("ChatsClientFunction", set())
    | TOKEN_READ
    | LIMITS
    | SEAL
    | {f"dynamodb:{action} {DYNAMO}MessengerTable" for action in ("UpdateItem", "PutItem", "BatchWriteItem")}
    | {
        f"dynamodb:GetItem {DYNAMO}AccountsTable",
        "secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-central-1:123456789012:secret:stack/accounts/*",
    }
)
# answering3 (issue 26): a one-term search reads its page's texts with one BatchGetItem (search/store.py fill_texts)
ADDED["SearchFunction"] = ADDED.get("SearchFunction", set()) | {f"dynamodb:BatchGetItem {DYNAMO}SearchTable"}


@pytest.mark.parametrize("function_id", sorted(BEFORE["functions"]))
def test_every_function_keeps_its_log_group_and_alarms(function_id: str) -> None:
    before, now = BEFORE["functions"][function_id], NOW["functions"][function_id]
    assert now["logGroups"] == before["logGroups"]
    assert now["alarms"] == before["alarms"]
    assert len(now["alarms"]) == 2


@pytest.mark.parametrize("function_id", sorted(BEFORE["functions"]))
def test_every_function_keeps_its_grants_apart_from_the_listed_fixes(function_id: str) -> None:
    before = set(BEFORE["functions"][function_id]["grants"])
    now = set(NOW["functions"][function_id]["grants"])
    removed, added = REMOVED.get(function_id, set()), ADDED.get(function_id, set())
    assert removed <= before and not added & before, "a listed fix that the snapshot does not need"
    assert sorted(before - now) == sorted(removed)
    assert sorted(now - before) == sorted(added)


NEW_ALARMS = {"WebhookGuardAlarm"}  # issue 28: the daily webhook check's finding (webhooks/guard.py)


def test_the_other_alarms_are_kept() -> None:
    assert {k: v for k, v in NOW["otherAlarms"].items() if k not in NEW_ALARMS} == BEFORE["otherAlarms"]
    guard = NOW["otherAlarms"]["WebhookGuardAlarm"]
    assert guard["AlarmActions"] == BEFORE["otherAlarms"]["KeepAliveFailuresAlarm"]["AlarmActions"]
    assert NOW["otherLogGroups"].keys() >= BEFORE["otherLogGroups"].keys()


def test_the_snapshot_is_of_the_hand_written_template() -> None:
    """60 functions, each with one log group and two alarms: what the template had before the loops."""
    assert len(BEFORE["functions"]) == 60
    assert all(len(f["logGroups"]) == 1 and len(f["alarms"]) == 2 for f in BEFORE["functions"].values())
