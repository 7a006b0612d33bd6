"""The dialogs table as CSV for Excel: UTF-8 with a BOM (so Excel reads Cyrillic right), ``;`` separated (Excel's
separator in Russian locales), a header row, CRLF line ends; a field holding ``;``, a quote or a line break is
quoted and its quotes doubled (the standard library's ``csv`` module does exactly that: no hand-written quoting).
A text cell starting with ``=``, ``+``, ``-``, ``@`` (a client could name themselves ``=HYPERLINK(...)``) gets a
leading ``'`` so Excel shows it as text instead of running it as a formula (OWASP, "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from avito_service.reports.models import DialogRow

BOM = "\ufeff"
COLUMNS = (
    "accountId",
    "accountName",
    "chatId",
    "clientName",
    "itemTitle",
    "status",
    "assignee",
    "startedAt",
    "firstResponseSeconds",
    "messagesIn",
    "messagesOut",
    "lastMessageAt",
    "tags",
)


TEXT_COLUMNS = frozenset({"accountName", "clientName", "itemTitle", "assignee", "tags", "chatId", "accountId"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(row: DialogRow, column: str) -> str:
    if column == "assignee":
        text = (row.assignee.name or row.assignee.userId) if row.assignee else ""
    elif column == "tags":
        text = ", ".join(row.tags)
    else:
        value = getattr(row, column)
        text = "" if value is None else str(value)
    if column in TEXT_COLUMNS and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def dialogs_csv(rows: Iterable[DialogRow]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row, column) for column in COLUMNS])
    return out.getvalue()
