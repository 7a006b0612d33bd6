"""The reports' answers (contract, "Reports")."""

from __future__ import annotations

from pydantic import Field

from avito_service.base import ApiModel


class Figures(ApiModel):
    chatsStarted: int = Field(0, description="chats whose client wrote their first message on these days")
    chatsAnswered: int = Field(0, description="first responses given on these days")
    messagesIn: int = 0
    messagesOut: int = Field(0, description="outgoing messages, automatic replies included")
    replies: int = Field(0, description="waits ended by a reply (automatic replies end none)")
    firstResponseMedianSeconds: int | None = Field(
        None, description="median first response time; from fixed buckets, within 9.5 % (null: none measured)"
    )
    firstResponseP90Seconds: int | None = None
    firstResponseMedianWorkingSeconds: int | None = Field(None, description="the same in the account's working hours")
    firstResponseP90WorkingSeconds: int | None = None
    replyMedianSeconds: int | None = Field(None, description="median of every reply time (each wait that was ended)")
    replyP90Seconds: int | None = None
    replyMedianWorkingSeconds: int | None = None
    replyP90WorkingSeconds: int | None = None
    slowReplies: int = Field(0, description="replies slower than the account's first waiting alert threshold")


class DayFigures(Figures):
    date: str = Field(description="YYYY-MM-DD, a Europe/Moscow day")


class AccountFigures(Figures):
    accountId: str
    accountName: str | None = None
    waitingNow: int = Field(0, description="the account's chats needing a reply now")
    slowReplySeconds: int = Field(
        300, description="the account's first waiting alert threshold (routing.waitAlertMinutes[0]): slower is slow"
    )


class OperatorFigures(Figures):
    userId: str
    name: str | None = None


class Totals(Figures):
    waitingNow: int = Field(0, description="chats needing a reply now, in the accounts reported")


class Now(ApiModel):
    """The accounts reported right now (not the period's)."""

    at: str = Field(description="when these were read")
    waiting: int = Field(0, description="chats needing a reply now (the same as totals.waitingNow)")
    longestWaitSeconds: int | None = Field(
        None, description="how long the chat waiting the longest has needed a reply (null: none is waiting)"
    )
    longestWaitSince: str | None = Field(None, description="since when it has needed a reply")
    longestWaitAccountId: str | None = None
    longestWaitChatId: str | None = None
    operatorsAvailable: int = Field(
        0,
        description="operators who may see one of the accounts, with a live WebSocket connection and not away "
        "(those auto-assignment may choose)",
    )


class Summary(ApiModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    totals: Totals
    days: list[DayFigures]
    byAccount: list[AccountFigures]
    byOperator: list[OperatorFigures]
    slowReplySeconds: int | None = Field(
        None,
        description="the threshold line of the daily chart: the chosen account's first waiting alert threshold, "
        "or with every account the strictest of theirs (null: no account)",
    )
    now: Now


class Assignee(ApiModel):
    userId: str
    name: str | None = None


class DialogRow(ApiModel):
    accountId: str
    accountName: str | None = None
    chatId: str
    clientName: str | None = None
    itemTitle: str | None = None
    status: str | None = Field(None, description="the chat's workflow status (null before the chat has one)")
    assignee: Assignee | None = None
    startedAt: str | None = Field(None, description="the client's first message (or the chat's first one)")
    firstResponseSeconds: int | None = None
    messagesIn: int = 0
    messagesOut: int = 0
    lastMessageAt: str | None = None
    tags: list[str] = Field(default_factory=list)
