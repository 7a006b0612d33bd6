// Statistics: views and contacts per day of one account, from its stored daily snapshots
// (GET /accounts/{id}/stats/history; the scheduled sync makes one a day, every sync updates that day's).

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { lineChart } from "./chart.js";

const DAY_MS = 24 * 60 * 60 * 1000;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
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
    const today = new Date();
    this.account = h("select", { dataset: { testid: "stats-account" }, "aria-label": "Account", onchange: () => this.app.navigate(`#/stats/${enc(this.account.value)}`) });
    this.from = h("input", { type: "date", value: isoDay(new Date(today.getTime() - 29 * DAY_MS)), dataset: { testid: "stats-from" }, onchange: () => this.load() });
    this.to = h("input", { type: "date", value: isoDay(today), dataset: { testid: "stats-to" }, onchange: () => this.load() });
    this.chart = h("div", { class: "chart-wrap" });
    this.table = h("div", { class: "table-wrap" });
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "stats-notice" } });
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "Statistics"), h("div", { class: "toolbar" }, this.account, h("label", {}, "From ", this.from), h("label", {}, "To ", this.to))),
      this.notice,
      h("div", { class: "legend" }, h("span", { class: "key views" }, "Views"), h("span", { class: "key contacts" }, "Contacts")),
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
      this.say("No accounts yet.");
      replace(this.chart);
      replace(this.table);
      return;
    }
    let snapshots;
    try {
      snapshots = await this.app.api.all(`/accounts/${enc(this.accountId)}/stats/history`, { from: this.from.value, to: this.to.value });
    } catch (error) {
      this.say(`Statistics could not be loaded: ${error.message}`, "error");
      return;
    }
    const byDay = new Map(snapshots.map((snapshot) => [snapshot.date, snapshot]));
    const dates = [...byDay.keys()].sort();
    if (!dates.length) {
      this.say("No snapshots in this period yet: sync the account's statistics (Accounts) or wait for the daily sync.");
    } else {
      this.say("");
    }
    const days = dates.length ? dayRange(dates[0], dates[dates.length - 1]) : [];
    const series = [
      { name: "views", className: "views", values: days.map((day) => byDay.get(day)?.viewsToday ?? null) },
      { name: "contacts", className: "contacts", values: days.map((day) => byDay.get(day)?.contactsToday ?? null) },
    ];
    const name = this.app.accounts.get(this.accountId)?.name || "";
    replace(this.chart, lineChart(days, series, { title: `Views and contacts per day, ${name}` }));
    replace(
      this.table,
      h(
        "table",
        { class: "table compact", dataset: { testid: "stats-table" } },
        h("thead", {}, h("tr", {}, h("th", {}, "Day"), h("th", {}, "Views"), h("th", {}, "Contacts"), h("th", {}, "Active items"))),
        h(
          "tbody",
          {},
          dates
            .slice()
            .reverse()
            .map((day) => {
              const snapshot = byDay.get(day);
              return h("tr", {}, h("td", {}, day), h("td", {}, snapshot.viewsToday ?? "—"), h("td", {}, snapshot.contactsToday ?? "—"), h("td", {}, snapshot.adsCount ?? "—"));
            }),
        ),
      ),
    );
  }
}
