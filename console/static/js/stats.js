// Statistics: views and contacts per day of one account, from its stored daily snapshots
// (GET /accounts/{id}/stats/history; the scheduled sync makes one a day, every sync updates that day's).

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { lineChart } from "./chart.js";
import { calendarDay, dayKey, number, t } from "./i18n.js";

const DAY_MS = 24 * 60 * 60 * 1000;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** A figure for the table ("1 234"), "—" when there is none. */
function figure(value) {
  return value === null || value === undefined ? "—" : number(value);
}

/** Every day from `first` to `last` (YYYY-MM-DD, inclusive). */
export function dayRange(first, last) {
  const days = [];
  for (let at = Date.parse(`${first}T00:00:00Z`); at <= Date.parse(`${last}T00:00:00Z`) && days.length < 400; at += DAY_MS) {
    days.push(isoDay(new Date(at)));
  }
  return days;
}

export class StatsView {
  constructor(app) {
    this.app = app;
    this.accountId = "";
    const today = dayKey(); // the snapshots' days are Moscow days; the default range ends today in the user's zone
    this.account = h("select", { dataset: { testid: "stats-account" }, "aria-label": t("stats.account"), onchange: () => this.app.navigate(`#/stats/${enc(this.account.value)}`) });
    this.from = h("input", { type: "date", value: isoDay(new Date(Date.parse(`${today}T00:00:00Z`) - 29 * DAY_MS)), dataset: { testid: "stats-from" }, onchange: () => this.load() });
    this.to = h("input", { type: "date", value: today, dataset: { testid: "stats-to" }, onchange: () => this.load() });
    this.chart = h("div", { class: "chart-wrap" });
    this.table = h("div", { class: "table-wrap" });
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "stats-notice" } });
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, t("stats.title")), h("div", { class: "toolbar" }, this.account, h("label", {}, t("stats.from"), " ", this.from), h("label", {}, t("stats.to"), " ", this.to))),
      this.notice,
      h("div", { class: "legend" }, h("span", { class: "key views" }, t("stats.views")), h("span", { class: "key contacts" }, t("stats.contacts"))),
      this.chart,
      this.table,
    );
  }

  say(text, kind = "info") {
    this.notice.hidden = !text;
    this.notice.className = `notice ${kind}`;
    this.notice.textContent = text || "";
  }

  async show(accountId) {
    if (!this.app.accounts.size) await this.app.loadAccounts();
    const accounts = [...this.app.accounts.values()];
    this.accountId = accountId && this.app.accounts.has(accountId) ? accountId : accounts[0]?.id || "";
    replace(this.account, accounts.map((account) => h("option", { value: account.id, selected: account.id === this.accountId }, account.name)));
    this.account.value = this.accountId;
    await this.load();
  }

  async load() {
    if (!this.accountId) {
      this.say(t("stats.noAccounts"));
      replace(this.chart);
      replace(this.table);
      return;
    }
    let snapshots;
    try {
      snapshots = await this.app.api.all(`/accounts/${enc(this.accountId)}/stats/history`, { from: this.from.value, to: this.to.value });
    } catch (error) {
      this.say(t("stats.loadFailed", { error: error.message }), "error");
      return;
    }
    const byDay = new Map(snapshots.map((snapshot) => [snapshot.date, snapshot]));
    const dates = [...byDay.keys()].sort();
    if (!dates.length) {
      this.say(t("stats.noSnapshots"));
    } else {
      this.say("");
    }
    const days = dates.length ? dayRange(dates[0], dates[dates.length - 1]) : [];
    const series = [
      { name: "views", label: t("stats.views"), className: "views", values: days.map((day) => byDay.get(day)?.viewsToday ?? null) },
      { name: "contacts", label: t("stats.contacts"), className: "contacts", values: days.map((day) => byDay.get(day)?.contactsToday ?? null) },
    ];
    const name = this.app.accounts.get(this.accountId)?.name || "";
    replace(this.chart, lineChart(days, series, { title: t("stats.chartTitle", { name }), dayLabel: (day) => calendarDay(day, { short: true }) }));
    replace(
      this.table,
      h(
        "table",
        { class: "table compact", dataset: { testid: "stats-table" } },
        h("thead", {}, h("tr", {}, ["day", "views", "contacts", "items"].map((column) => h("th", {}, t(`stats.col.${column}`))))),
        h(
          "tbody",
          {},
          dates
            .slice()
            .reverse()
            .map((day) => {
              const snapshot = byDay.get(day);
              return h(
                "tr",
                { dataset: { day } },
                h("td", {}, h("time", { datetime: day }, calendarDay(day))),
                h("td", {}, figure(snapshot.viewsToday)),
                h("td", {}, figure(snapshot.contactsToday)),
                h("td", {}, figure(snapshot.adsCount)),
              );
            }),
        ),
      ),
    );
  }
}
