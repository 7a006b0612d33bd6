// Accounts: the table with connection and proxy status, check connection and sync stats for every role;
// eternal online (on/off, interval) and the webhook subscription for admins only (the service refuses
// them to other roles anyway; the page does not offer what the operator may not do).

import { h, replace, shortTime, fullTime, roubles } from "./dom.js";
import { enc } from "./api.js";
import { t as reviewsText } from "./reviews.js";

const CONNECTION = {
  connected: ["ok", "Connected"],
  unknown: ["neutral", "Not checked"],
  auth_error: ["bad", "Credentials refused"],
  proxy_error: ["bad", "Proxy failed"],
  api_error: ["warn", "Avito error"],
};
const PROXY = {
  not_configured: ["neutral", "No proxy"],
  unknown: ["neutral", "Not checked"],
  ok: ["ok", "Proxy OK"],
  failed: ["bad", "Proxy failed"],
};
const JOB_POLL_MS = 1500;

function badge(map, value, testid) {
  const [kind, label] = map[value] || ["neutral", value || "—"];
  return h("span", { class: `status ${kind}`, dataset: { testid, value } }, label);
}

export class AccountsView {
  constructor(app) {
    this.app = app;
    this.body = h("tbody");
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "accounts-notice" } });
    this.bulk = h("div", { class: "toolbar" });
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "Accounts"), this.bulk),
      this.notice,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", dataset: { testid: "accounts-table" } },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Account", "Connection", "Proxy", "Balance", "Items", "Last sync", "Eternal online", "Webhook", ""].map((title) => h("th", {}, title)),
            ),
          ),
          this.body,
        ),
      ),
    );
  }

  say(text, kind = "info") {
    this.notice.hidden = !text;
    this.notice.className = `notice ${kind}`;
    this.notice.textContent = text || "";
  }

  async show() {
    replace(
      this.bulk,
      this.app.session.isAdmin
        ? [
            h("button", { type: "button", class: "ghost", dataset: { testid: "check-all" }, onclick: () => this.bulkJob("/accounts/check-all-connections", "Checking every account") }, "Check all"),
            h("button", { type: "button", class: "ghost", dataset: { testid: "sync-all" }, onclick: () => this.bulkJob("/accounts/sync-all-stats", "Syncing every account") }, "Sync all"),
          ]
        : [],
    );
    await this.app.loadAccounts();
    this.render();
  }

  render() {
    const accounts = [...this.app.accounts.values()];
    replace(this.body, accounts.length ? accounts.map((account) => this.row(account)) : h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No accounts yet.")));
  }

  updateRow(account) {
    this.app.accounts.set(account.id, account);
    const old = this.body.querySelector(`tr[data-account-id="${CSS.escape(account.id)}"]`);
    if (old) old.replaceWith(this.row(account));
    else this.render();
  }

  row(account) {
    const admin = this.app.session.isAdmin;
    const busy = (button, work) => async () => {
      button.disabled = true;
      try {
        await work();
      } finally {
        button.disabled = false;
      }
    };
    const check = h("button", { type: "button", class: "ghost small", dataset: { testid: "check-connection" } }, "Check");
    check.onclick = busy(check, () => this.checkConnection(account));
    const sync = h("button", { type: "button", class: "ghost small", dataset: { testid: "sync-stats" } }, "Sync stats");
    sync.onclick = busy(sync, () => this.syncStats(account));

    let online = h("span", { class: `status ${account.eternalOnlineEnabled ? "ok" : "neutral"}` }, account.eternalOnlineEnabled ? `On, every ${account.onlineKeepAliveInterval} s` : "Off");
    let webhook = h("span", { class: `status ${account.webhookSubscribed ? "ok" : "neutral"}`, dataset: { testid: "webhook-status" } }, account.webhookSubscribed ? "Subscribed" : "Not subscribed");
    if (admin) {
      const interval = h("input", {
        type: "number",
        min: 60,
        max: 3600,
        step: 30,
        value: String(account.onlineKeepAliveInterval || 300),
        class: "interval",
        title: "Keep-alive interval in seconds (60-3600)",
        dataset: { testid: "online-interval" },
      });
      const toggle = h("input", { type: "checkbox", checked: Boolean(account.eternalOnlineEnabled), dataset: { testid: "eternal-online-toggle" } });
      toggle.onchange = busy(toggle, () => this.setOnline(account, toggle.checked, interval.value));
      interval.onchange = () => account.eternalOnlineEnabled && this.setOnline(account, true, interval.value);
      online = h(
        "div",
        { class: "online-cell" },
        h("label", { class: "check" }, toggle, " On"),
        interval,
        h("span", { class: "muted small" }, "s"),
        account.lastOnlineError ? h("div", { class: "bad small", title: account.lastOnlineError }, "Keep-alive failed") : null,
      );
      const subscribe = h("button", { type: "button", class: "ghost small", dataset: { testid: "webhook-subscribe" } }, account.webhookSubscribed ? "Resubscribe" : "Subscribe");
      subscribe.onclick = busy(subscribe, () => this.subscribe(account));
      webhook = h("div", {}, webhook, " ", subscribe);
    }
    return h(
      "tr",
      { dataset: { accountId: account.id, testid: "account-row" } },
      h("td", {}, h("strong", {}, account.name), h("div", { class: "muted small" }, account.userId ? `Avito user ${account.userId}` : "user id unknown")),
      h(
        "td",
        {},
        badge(CONNECTION, account.connectionStatus, "connection-status"),
        account.lastCheckedAt ? h("div", { class: "muted small", title: fullTime(account.lastCheckedAt) }, shortTime(account.lastCheckedAt)) : null,
        account.lastError ? h("div", { class: "bad small" }, account.lastError) : null,
      ),
      h("td", {}, badge(PROXY, account.proxyStatus, "proxy-status"), account.proxyType ? h("div", { class: "muted small" }, `${account.proxyType}://${account.proxyHost}:${account.proxyPort}`) : null),
      h("td", {}, roubles(account.balanceReal), account.cpaBalance !== null && account.cpaBalance !== undefined ? h("div", { class: "muted small" }, `CPA ${roubles(account.cpaBalance)}`) : null),
      h("td", {}, account.adsCount ?? "—"),
      h("td", { title: fullTime(account.lastSyncAt) }, account.lastSyncAt ? shortTime(account.lastSyncAt) : "never"),
      h("td", {}, online),
      h("td", {}, webhook),
      h("td", { class: "actions" }, check, sync, h("a", { class: "small", href: `#/stats/${enc(account.id)}` }, "Statistics"), h("a", { class: "small", href: `#/reviews/${enc(account.id)}`, dataset: { testid: "account-reviews" } }, reviewsText("nav.reviews"))),
    );
  }

  async refresh(account) {
    this.updateRow(await this.app.api.get(`/accounts/${enc(account.id)}`));
  }

  async checkConnection(account) {
    try {
      const result = await this.app.api.post(`/accounts/${enc(account.id)}/check-connection`);
      const failed = Object.entries(result.steps || {}).find(([, step]) => step && !step.ok);
      this.say(result.ok ? `${account.name}: connected.` : `${account.name}: ${failed ? `${failed[0]} step failed: ${failed[1].error}` : result.connectionStatus}`, result.ok ? "success" : "error");
      await this.refresh(account);
    } catch (error) {
      this.say(`${account.name}: ${error.message}`, "error");
    }
  }

  async syncStats(account) {
    try {
      const answer = await this.app.api.request("POST", `/accounts/${enc(account.id)}/sync-stats`, { json: {}, full: true });
      if (answer.status === 202 && answer.data?.jobId) {
        this.say(`${account.name}: the sync runs in the background…`);
        const job = await this.waitForJob(answer.data.jobId, (progress) => this.say(`${account.name}: syncing in the background (${progress})…`));
        this.say(job.status === "done" ? `${account.name}: statistics synced.` : `${account.name}: the sync failed: ${job.error || "see the job"}`, job.status === "done" ? "success" : "error");
        await this.refresh(account);
      } else {
        this.updateRow(answer.data);
        this.say(`${account.name}: statistics synced.`, "success");
      }
    } catch (error) {
      this.say(`${account.name}: ${error.message}`, "error");
    }
  }

  /** Polls GET /jobs/{id} until it is done or failed; `onProgress("3/10")` on the way. */
  async waitForJob(jobId, onProgress) {
    for (;;) {
      const job = await this.app.api.get(`/jobs/${enc(jobId)}`);
      if (job.status === "done" || job.status === "failed") return job;
      onProgress?.(job.total ? `${job.done + job.failed}/${job.total}` : job.status);
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
    }
  }

  async bulkJob(path, label) {
    try {
      const started = await this.app.api.post(path);
      this.say(`${label}…`);
      const job = await this.waitForJob(started.jobId, (progress) => this.say(`${label} (${progress})…`));
      this.say(`${label}: ${job.done} done, ${job.failed} failed.`, job.failed ? "error" : "success");
      await this.app.loadAccounts();
      this.render();
    } catch (error) {
      this.say(`${label}: ${error.message}`, "error");
    }
  }

  async setOnline(account, enabled, interval) {
    const seconds = Number.parseInt(interval, 10);
    if (enabled && !(seconds >= 60 && seconds <= 3600)) {
      this.say("The keep-alive interval is 60 to 3600 seconds.", "error");
      return;
    }
    try {
      const path = `/eternal-online/accounts/${enc(account.id)}/${enabled ? "enable" : "disable"}`;
      await this.app.api.post(path, enabled ? { interval: seconds } : undefined);
      this.say(`${account.name}: eternal online ${enabled ? `on, every ${seconds} s` : "off"}.`, "success");
      await this.refresh(account);
    } catch (error) {
      this.say(`${account.name}: ${error.message}`, "error");
      await this.refresh(account).catch(() => {});
    }
  }

  async subscribe(account) {
    try {
      const result = await this.app.api.post(`/accounts/${enc(account.id)}/webhook`);
      this.say(result.subscribed ? `${account.name}: webhook subscribed; Avito now delivers new messages.` : `${account.name}: Avito did not confirm the subscription.`, result.subscribed ? "success" : "error");
      await this.refresh(account);
    } catch (error) {
      this.say(`${account.name}: ${error.message}`, "error");
    }
  }
}
