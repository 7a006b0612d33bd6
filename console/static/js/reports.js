// Reports (directors and admins): "now" (chats waiting, the longest wait, operators available), the period's KPIs,
// a daily chart of the median and p90 first response with the waiting-alert threshold (the chosen account's first
// alert; with every account the strictest of theirs: summary.slowReplySeconds), tables by operator and by account,
// the dialogs table with filters and a CSV download (GET /reports/summary, GET /reports/dialogs; figures kept by the
// service as messages are stored).

import { h, replace } from "./dom.js";
import { lineChart } from "./chart.js";
import { calendarDay, dayKey, number, shortTime, fullTime, t } from "./i18n.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const KPIS = ["chatsStarted", "chatsAnswered", "firstResponseMedianSeconds", "firstResponseP90Seconds", "firstResponseMedianWorkingSeconds", "slowReplies"];
const NOW = ["waiting", "longestWaitSeconds", "operatorsAvailable"];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** Seconds -> "45 с", "3 мин 20 с", "2 ч 05 мин"; "—" for none. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return t("reports.seconds", { s });
  if (s < 3600) return t("reports.minutes", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
  return t("reports.hours", { h: Math.floor(s / 3600), m: String(Math.floor((s % 3600) / 60)).padStart(2, "0") });
}

function isDuration(name) {
  return /Seconds$/.test(name);
}

function cell(row, name) {
  const value = row[name];
  return h("td", { dataset: { column: name, value: value ?? "" } }, isDuration(name) ? duration(value) : value === null || value === undefined ? "—" : number(value));
}

export class ReportsView {
  constructor(app) {
    this.app = app;
    const today = dayKey();
    this.from = h("input", { type: "date", value: isoDay(new Date(Date.parse(`${today}T00:00:00Z`) - 6 * DAY_MS)), dataset: { testid: "reports-from" }, onchange: () => this.load() });
    this.to = h("input", { type: "date", value: today, dataset: { testid: "reports-to" }, onchange: () => this.load() });
    this.account = h("select", { dataset: { testid: "reports-account" }, "aria-label": t("reports.account"), onchange: () => this.load() });
    this.status = h(
      "select",
      { dataset: { testid: "reports-status" }, "aria-label": t("reports.status"), onchange: () => this.loadDialogs() },
      ["", "new", "open", "closed"].map((value) => h("option", { value }, t(value ? `reports.status.${value}` : "reports.status.all"))),
    );
    this.csvButton = h("button", { type: "button", class: "ghost", dataset: { testid: "reports-csv" }, onclick: () => this.downloadCsv() }, t("reports.csv"));
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "reports-notice" } });
    this.kpis = h("div", { class: "kpis", dataset: { testid: "reports-kpis" } });
    this.now = h("div", { class: "kpis now", dataset: { testid: "reports-now" } });
    this.thresholdKey = h("span", { class: "key threshold", dataset: { testid: "reports-threshold-key" } });
    this.chart = h("div", { class: "chart-wrap" });
    this.operators = h("div", { class: "table-wrap" });
    this.accounts = h("div", { class: "table-wrap" });
    this.dialogs = h("div", { class: "table-wrap" });
    this.more = h("button", { type: "button", class: "ghost", hidden: true, dataset: { testid: "reports-more" }, onclick: () => this.loadDialogs(this.cursor) }, t("reports.more"));
    this.cursor = null;
    this.element = h(
      "section",
      { class: "page", dataset: { testid: "reports" } },
      h("div", { class: "page-head" }, h("h1", {}, t("reports.title")), h("div", { class: "toolbar" }, this.account, h("label", {}, t("reports.from"), " ", this.from), h("label", {}, t("reports.to"), " ", this.to))),
      this.notice,
      h("h2", {}, t("reports.now")),
      this.now,
      h("h2", {}, t("reports.period")),
      this.kpis,
      h("div", { class: "legend" }, h("span", { class: "key median" }, t("reports.median")), h("span", { class: "key p90" }, t("reports.p90")), this.thresholdKey),
      this.chart,
      h("h2", {}, t("reports.byOperator")),
      this.operators,
      h("h2", {}, t("reports.byAccount")),
      this.accounts,
      h("div", { class: "page-head" }, h("h2", {}, t("reports.dialogs")), h("div", { class: "toolbar" }, this.status, this.csvButton)),
      this.dialogs,
      this.more,
    );
  }

  say(text, kind = "info") {
    this.notice.hidden = !text;
    this.notice.className = `notice ${kind}`;
    this.notice.textContent = text || "";
  }

  query() {
    return { from: this.from.value, to: this.to.value, accountId: this.account.value || undefined };
  }

  async show() {
    if (!this.app.accounts.size) await this.app.loadAccounts();
    const chosen = this.account.value;
    replace(this.account, h("option", { value: "" }, t("reports.allAccounts")), [...this.app.accounts.values()].map((account) => h("option", { value: account.id }, account.name)));
    this.account.value = chosen;
    await this.load();
  }

  async load() {
    let summary;
    try {
      summary = await this.app.api.get("/reports/summary", this.query());
    } catch (error) {
      this.say(t("reports.loadFailed", { error: error.message }), "error");
      return;
    }
    this.say("");
    this.summary = summary;
    this.renderNow(summary.now);
    this.renderKpis(summary.totals);
    this.renderChart(summary.days, summary.slowReplySeconds);
    this.renderOperators(summary.byOperator);
    this.renderAccounts(summary.byAccount);
    await this.loadDialogs();
  }

  renderKpis(totals) {
    replace(
      this.kpis,
      KPIS.map((name) =>
        h(
          "div",
          { class: "kpi", dataset: { testid: `kpi-${name}`, value: totals[name] ?? "" } },
          h("span", { class: "kpi-value" }, isDuration(name) ? duration(totals[name]) : number(totals[name] ?? 0)),
          h("span", { class: "kpi-label" }, t(`reports.kpi.${name}`)),
        ),
      ),
    );
  }

  /** Right now, in the accounts reported: chats waiting, how long the longest has waited (its account in the
   * tooltip), operators available (live connection, not away). */
  renderNow(now) {
    const account = now.longestWaitAccountId ? this.app.accounts.get(now.longestWaitAccountId)?.name || now.longestWaitAccountId : "";
    const shown = {
      waiting: number(now.waiting),
      longestWaitSeconds: duration(now.longestWaitSeconds),
      operatorsAvailable: number(now.operatorsAvailable),
    };
    replace(
      this.now,
      NOW.map((name) =>
        h(
          "div",
          {
            class: "kpi",
            title: name === "longestWaitSeconds" && now.longestWaitSince ? t("reports.now.longestWaitTitle", { account, since: fullTime(now.longestWaitSince) }) : "",
            dataset: { testid: `now-${name}`, value: now[name] ?? "" },
          },
          h("span", { class: "kpi-value" }, shown[name]),
          h("span", { class: "kpi-label" }, t(`reports.now.${name}`)),
        ),
      ),
    );
  }

  renderChart(days, thresholdSeconds) {
    const dates = days.map((day) => day.date);
    // the chosen account's first waiting alert; with every account the strictest (a line that hides no account's
    // slow replies); none without accounts
    const strictest = !this.account.value && new Set((this.summary?.byAccount || []).map((a) => a.slowReplySeconds)).size > 1;
    const threshold =
      thresholdSeconds === null || thresholdSeconds === undefined ? "" : t(strictest ? "reports.thresholdStrictest" : "reports.threshold", { value: duration(thresholdSeconds) });
    const minutes = (value) => (value === null || value === undefined ? null : Math.round(value / 6) / 10);
    const series = [
      { name: "median", label: t("reports.median"), className: "median", values: days.map((day) => minutes(day.firstResponseMedianSeconds)) },
      { name: "p90", label: t("reports.p90"), className: "p90", values: days.map((day) => minutes(day.firstResponseP90Seconds)) },
    ];
    replace(
      this.chart,
      lineChart(dates, series, {
        testid: "reports-chart",
        title: t("reports.chartTitle"),
        dayLabel: (day) => calendarDay(day, { short: true }),
        threshold: threshold ? { value: thresholdSeconds / 60, label: threshold } : null,
      }),
    );
    this.thresholdKey.hidden = !threshold;
    this.thresholdKey.textContent = threshold || "";
  }

  table(testid, columns, rows, key, first) {
    return h(
      "table",
      { class: "table compact", dataset: { testid } },
      h("thead", {}, h("tr", {}, h("th", {}, t(`reports.col.${first}`)), columns.map((column) => h("th", {}, t(`reports.col.${column}`))))),
      h("tbody", {}, rows.map((row) => h("tr", { dataset: { id: row[key] } }, h("td", {}, row.name || row.accountName || row[key]), columns.map((column) => cell(row, column))))),
    );
  }

  renderOperators(rows) {
    const columns = ["chatsAnswered", "messagesOut", "firstResponseMedianSeconds", "firstResponseP90Seconds", "replyMedianSeconds", "slowReplies"];
    replace(this.operators, rows.length ? this.table("reports-operators", columns, rows, "userId", "operator") : h("p", { class: "muted" }, t("reports.noOperators")));
  }

  renderAccounts(rows) {
    const columns = ["chatsStarted", "chatsAnswered", "messagesIn", "messagesOut", "firstResponseMedianSeconds", "firstResponseP90Seconds", "slowReplies", "waitingNow"];
    replace(this.accounts, this.table("reports-accounts", columns, rows, "accountId", "account"));
  }

  async loadDialogs(cursor = null) {
    let page;
    try {
      page = await this.app.api.page("/reports/dialogs", { ...this.query(), status: this.status.value || undefined, limit: 50, cursor: cursor || undefined });
    } catch (error) {
      this.say(t("reports.loadFailed", { error: error.message }), "error");
      return;
    }
    const rows = page.items.map((row) =>
      h(
        "tr",
        { dataset: { testid: "dialog-row", chatId: row.chatId, accountId: row.accountId } },
        h("td", {}, row.accountName || row.accountId),
        h("td", {}, row.clientName || "—"),
        h("td", {}, row.itemTitle || "—"),
        h("td", {}, row.status ? t(`reports.status.${row.status}`) : "—"),
        h("td", {}, row.assignee ? row.assignee.name || row.assignee.userId : "—"),
        h("td", { title: fullTime(row.startedAt) }, shortTime(row.startedAt)),
        h("td", { dataset: { value: row.firstResponseSeconds ?? "" } }, duration(row.firstResponseSeconds)),
        h("td", {}, number(row.messagesIn)),
        h("td", {}, number(row.messagesOut)),
        h("td", { title: fullTime(row.lastMessageAt) }, shortTime(row.lastMessageAt)),
      ),
    );
    if (!cursor) {
      const columns = ["account", "client", "item", "status", "assignee", "startedAt", "firstResponse", "messagesIn", "messagesOut", "lastMessageAt"];
      this.dialogBody = h("tbody", {}, rows);
      replace(this.dialogs, h("table", { class: "table compact", dataset: { testid: "reports-dialogs" } }, h("thead", {}, h("tr", {}, columns.map((column) => h("th", {}, t(`reports.col.${column}`))))), this.dialogBody));
    } else {
      this.dialogBody.append(...rows);
    }
    this.cursor = page.nextCursor;
    this.more.hidden = !page.nextCursor;
  }

  /** The dialogs of the filters as CSV (Excel): fetched with the token, saved through a temporary link. */
  async downloadCsv() {
    let response;
    try {
      response = await this.app.api.raw("/reports/dialogs", { ...this.query(), status: this.status.value || undefined }, "text/csv");
    } catch (error) {
      this.say(t("reports.csvFailed", { error: error.message }), "error");
      return;
    }
    const blob = await response.blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: `dialogs-${this.from.value}-${this.to.value}.csv`, hidden: true, dataset: { testid: "reports-csv-link" } });
    document.body.append(link);
    link.click();
    setTimeout(() => {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 1000);
  }
}
