"""The console's "Отчёты" view in Chromium: a director opens the reports, "now", the KPIs, the chart (its points and
its threshold line: the strictest account's with every account, the chosen account's), the tables and the dialogs
match the API's figures (kept by the stack's stream consumer from the seeded chats), the CSV downloads (fetched with
the token and saved through a blob link: its text is read back and compared with the dialogs); operators have no
such view."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from local_runtime import LocalStack
from tests.browser.conftest import Seeded, api, sign_in
from tests.browser.test_console_i18n import english_words
from tests.support.browser import all_of, click, tid, visible, wait_for

pytestmark = pytest.mark.browser


def figures_counted(stack: LocalStack, query: dict[str, str]) -> dict:
    """The summary once the stream consumer has counted the seeded messages (it polls the stream)."""
    deadline = time.monotonic() + 60
    while True:
        summary = api(stack, "GET", "/reports/summary", role="director", params=query)
        if summary["totals"]["messagesIn"] > 0 or time.monotonic() > deadline:
            return summary
        time.sleep(0.5)


def test_a_director_sees_the_reports_and_downloads_the_csv(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    accounts = api(stack, "GET", "/accounts")
    strict = accounts[0]["id"]  # a 2-minute first alert here, the default 5 minutes on the others
    api(stack, "PUT", f"/accounts/{strict}/routing", json={"mode": "off", "waitAlertMinutes": [2, 15]})
    sign_in(page, stack, role="director", view="#/reports")
    visible(page, tid("reports-kpis"))
    assert visible(page, tid("nav-reports")).text == "Отчёты"
    query = {
        "from": visible(page, tid("reports-from")).get_attribute("value"),
        "to": visible(page, tid("reports-to")).get_attribute("value"),
    }
    summary = figures_counted(stack, query)
    totals = summary["totals"]
    assert totals["messagesIn"] > 0 and totals["chatsStarted"] > 0, totals
    page.refresh()  # the page's first load may have come before the consumer counted
    visible(page, tid("reports-kpis"))

    def kpi(name: str) -> str:
        return visible(page, tid(f"kpi-{name}")).get_attribute("data-value")

    wait_for(page, lambda d: kpi("chatsStarted") == str(totals["chatsStarted"]), "the KPIs of the API")
    for name in ("chatsAnswered", "firstResponseMedianSeconds", "firstResponseP90Seconds", "slowReplies"):
        assert kpi(name) == ("" if totals[name] is None else str(totals[name])), name
    now = summary["now"]

    def now_value(name: str) -> str:
        return visible(page, tid(f"now-{name}")).get_attribute("data-value")

    assert now_value("waiting") == str(now["waiting"]) == str(totals["waitingNow"])
    assert now_value("operatorsAvailable") == str(now["operatorsAvailable"])
    if now["longestWaitSeconds"] is None:
        assert now_value("longestWaitSeconds") == ""
    else:  # read a moment apart: the page's wait is the API's plus the seconds between
        assert 0 <= int(now_value("longestWaitSeconds")) - now["longestWaitSeconds"] <= 120
    chart = visible(page, tid("reports-chart"))
    assert chart.get_attribute("data-days") == str(len(summary["days"]))
    assert summary["slowReplySeconds"] == 120  # every account: the strictest threshold
    assert float(visible(page, tid("chart-threshold")).get_attribute("data-value")) == 2.0
    assert "самый строгий" in visible(page, tid("reports-threshold-key")).text
    medians = {
        p.get_attribute("data-day"): float(p.get_attribute("data-value"))
        for p in all_of(page, tid("chart-point", series="median"))
    }
    expected = {
        d["date"]: round(d["firstResponseMedianSeconds"] / 6) / 10
        for d in summary["days"]
        if d["firstResponseMedianSeconds"] is not None
    }
    assert medians == expected
    rows = all_of(page, tid("reports-accounts") + " tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [a["accountId"] for a in summary["byAccount"]]
    for row, account in zip(rows, summary["byAccount"], strict=True):
        cells = {
            c.get_attribute("data-column"): c.get_attribute("data-value")
            for c in row.find_elements("css selector", "td[data-column]")
        }
        assert cells["messagesIn"] == str(account["messagesIn"]) and cells["waitingNow"] == str(account["waitingNow"])
    dialogs = api(stack, "GET", "/reports/dialogs", role="director", params={**query, "limit": 50})
    wait_for(page, lambda d: len(all_of(d, tid("dialog-row"))) == len(dialogs), "the dialogs of the API")
    assert [r.get_attribute("data-chat-id") for r in all_of(page, tid("dialog-row"))] == [d["chatId"] for d in dialogs]
    assert english_words(page) - {"CSV"} == set()  # the view is Russian (CSV is the format's name)

    page.execute_script(  # the bytes of the blob the page saves, decoded keeping the BOM
        "window.__csv = null; const made = URL.createObjectURL.bind(URL);"
        "URL.createObjectURL = (blob) => { blob.arrayBuffer().then((buffer) => {"
        " window.__csv = new TextDecoder('utf-8', {ignoreBOM: true}).decode(buffer); }); return made(blob); };"
    )
    click(page, tid("reports-csv"))
    wait_for(page, lambda d: d.execute_script("return window.__csv") is not None, "the CSV downloaded")
    text = page.execute_script("return window.__csv")
    assert text.startswith("\ufeffaccountId;accountName;chatId;clientName")
    assert text.count("\r\n") == len(dialogs) + 1  # the header and one line per chat (no line breaks in names)
    for dialog in dialogs:
        assert dialog["chatId"] in text

    # one account chosen: its own threshold line, its figures
    other = next(a for a in summary["byAccount"] if a["accountId"] != strict)
    Select(visible(page, tid("reports-account"))).select_by_value(other["accountId"])
    wait_for(
        page,
        lambda d: float(visible(d, tid("chart-threshold")).get_attribute("data-value")) == 5.0,
        "the chosen account's threshold",
    )
    assert "самый строгий" not in visible(page, tid("reports-threshold-key")).text
    rows = all_of(page, tid("reports-accounts") + " tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [other["accountId"]]
    assert kpi("chatsStarted") == str(other["chatsStarted"])


def test_operators_have_no_reports(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, role="operator")
    visible(page, tid("nav-inbox"))
    assert all_of(page, tid("nav-reports")) == []
