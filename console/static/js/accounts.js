// Accounts: the table with connection and proxy status, check connection and sync stats for every role;
// eternal online (on/off, interval) and the webhook subscription for admins only (the service refuses
// them to other roles anyway; the page does not offer what the operator may not do). Under the table, a health
// card per account says in plain words what is wrong and what to do (issue 28); admins connect an account by a
// consent link (POST /accounts/connect-link) that its owner opens at Avito.

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { fullTime, has, roubles, shortTime, t } from "./i18n.js";
import { RoutingSettings } from "./workflow.js";

// status -> badge colour; the label is the dictionary's accounts.connection.<status> / accounts.proxy.<status>
const CONNECTION = { connected: "ok", unknown: "neutral", auth_error: "bad", proxy_error: "bad", api_error: "warn" };
const PROXY = { not_configured: "neutral", unknown: "neutral", ok: "ok", failed: "bad" };
const COLUMNS = ["account", "connection", "proxy", "balance", "items", "lastSync", "online", "webhook"];
const JOB_POLL_MS = 1500;

/** A dictionary text for `prefix.value`, or the value itself when the service sent one the console does not know. */
function label(prefix, value) {
  return value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value || "—";
}

function badge(map, prefix, value, testid) {
  return h("span", { class: `status ${map[value] || "neutral"}`, dataset: { testid, value } }, label(prefix, value));
}

export class AccountsView {
  constructor(app) {
    this.app = app;
    this.body = h("tbody");
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "accounts-notice" } });
    this.bulk = h("div", { class: "toolbar" });
    this.linkForm = h("div", { class: "connect-link", hidden: true, dataset: { testid: "connect-link-form" } });
    this.cards = h("div", { class: "health-cards", dataset: { testid: "health-cards" } });
    this.routing = new RoutingSettings(app); // the chat workflow's routing and alert thresholds (admins, issue 25)
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, t("accounts.title")), this.bulk),
      this.notice,
      this.linkForm,
      this.routing.element,
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
              [...COLUMNS.map((column) => h("th", {}, t(`accounts.col.${column}`))), h("th", {})],
            ),
          ),
          this.body,
        ),
      ),
      h("h2", {}, t("health.title")),
      this.cards,
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
            h("button", { type: "button", class: "ghost", dataset: { testid: "check-all" }, onclick: () => this.bulkJob("/accounts/check-all-connections", t("accounts.checkingAll")) }, t("accounts.checkAll")),
            h("button", { type: "button", class: "ghost", dataset: { testid: "sync-all" }, onclick: () => this.bulkJob("/accounts/sync-all-stats", t("accounts.syncingAll")) }, t("accounts.syncAll")),
            h("button", { type: "button", dataset: { testid: "connect-by-link" }, onclick: () => this.openLinkForm() }, t("health.connectByLink")),
          ]
        : [],
    );
    await this.app.loadAccounts();
    this.render();
  }

  render() {
    const accounts = [...this.app.accounts.values()];
    replace(this.body, accounts.length ? accounts.map((account) => this.row(account)) : h("tr", {}, h("td", { colspan: 9, class: "muted" }, t("accounts.none"))));
    replace(this.cards, accounts.map((account) => this.card(account)));
  }

  /** What is wrong with an account and what to do, in plain words: [kind, text, action?] lines. */
  problems(account) {
    const oauth = account.authType === "oauth";
    const lines = [];
    if (account.connectionStatus === "auth_error") {
      lines.push(["bad", oauth ? t("health.oauthRevoked") : t("health.keysRefused"), oauth && this.app.session.isAdmin ? "reconnect" : null]);
    } else if (account.connectionStatus === "proxy_error") {
      lines.push(["bad", t("health.proxyFailed")]);
    } else if (account.connectionStatus === "api_error") {
      lines.push(["warn", t("health.avitoFailed", { error: account.lastError || "—" })]);
    } else if (account.connectionStatus === "unknown") {
      lines.push(["neutral", t("health.notChecked")]);
    }
    if (account.messengerAvailable === false) lines.push(["warn", t("health.noMessenger")]);
    if (oauth) lines.push(["neutral", t("health.keysForCpa")]);
    if (!lines.some(([kind]) => kind === "bad" || kind === "warn") && account.connectionStatus === "connected") {
      lines.unshift(["ok", t("health.allGood")]);
    }
    return lines;
  }

  card(account) {
    const facts = [
      t(account.authType === "oauth" ? "health.byLink" : "health.byKeys"),
      account.tokenExpiresAt ? t("health.tokenUntil", { time: shortTime(account.tokenExpiresAt) }) : null,
      account.messengerAvailable === true ? t("health.messengerOk") : account.messengerAvailable === null || account.messengerAvailable === undefined ? t("health.messengerUnknown") : null,
      account.lastWebhookAt ? t("health.lastWebhook", { time: shortTime(account.lastWebhookAt) }) : t("health.noWebhookYet"),
    ].filter(Boolean);
    return h(
      "article",
      { class: "health-card", dataset: { testid: "health-card", accountId: account.id, authType: account.authType || "client_credentials" } },
      h("h3", {}, account.name),
      h("div", { class: "muted small" }, facts.join(" · ")),
      h(
        "ul",
        {},
        this.problems(account).map(([kind, text, action]) =>
          h(
            "li",
            { class: kind, dataset: { testid: "health-problem", kind } },
            text,
            action === "reconnect" ? [" ", h("button", { type: "button", class: "ghost small", dataset: { testid: "reconnect" }, onclick: () => this.openLinkForm(account.name) }, t("health.reconnect"))] : null,
          ),
        ),
      ),
    );
  }

  openLinkForm(name = "") {
    const input = h("input", { type: "text", value: name, maxlength: 100, placeholder: t("health.linkName"), dataset: { testid: "connect-link-name" } });
    const result = h("div", { class: "connect-link-result" });
    const create = h("button", { type: "button", dataset: { testid: "connect-link-create" } }, t("health.createLink"));
    create.onclick = async () => {
      create.disabled = true;
      try {
        const link = await this.app.api.post("/accounts/connect-link", { name: input.value.trim() });
        const url = h("input", { type: "text", readonly: true, value: link.url, class: "link-url", dataset: { testid: "connect-link-url" } });
        const copy = h("button", { type: "button", class: "ghost small", dataset: { testid: "connect-link-copy" } }, t("health.copy"));
        copy.onclick = async () => {
          url.select();
          await navigator.clipboard?.writeText(link.url).catch(() => {});
          this.say(t("health.copied"), "success");
        };
        replace(result, h("p", {}, t("health.linkReady", { time: fullTime(link.expiresAt) })), url, " ", copy);
      } catch (error) {
        this.say(t("accounts.failed", { name: input.value || t("health.connectByLink"), error: error.message }), "error");
      } finally {
        create.disabled = false;
      }
    };
    const close = h("button", { type: "button", class: "ghost small", onclick: () => { this.linkForm.hidden = true; } }, t("health.close"));
    replace(this.linkForm, h("p", {}, t("health.linkHelp")), input, " ", create, " ", close, result);
    this.linkForm.hidden = false;
    input.focus();
  }

  updateRow(account) {
    this.app.accounts.set(account.id, account);
    const old = this.body.querySelector(`tr[data-account-id="${CSS.escape(account.id)}"]`);
    const card = this.cards.querySelector(`article[data-account-id="${CSS.escape(account.id)}"]`);
    if (old && card) {
      old.replaceWith(this.row(account));
      card.replaceWith(this.card(account));
    } else this.render();
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
    const check = h("button", { type: "button", class: "ghost small", dataset: { testid: "check-connection" } }, t("accounts.check"));
    check.onclick = busy(check, () => this.checkConnection(account));
    const sync = h("button", { type: "button", class: "ghost small", dataset: { testid: "sync-stats" } }, t("accounts.sync"));
    sync.onclick = busy(sync, () => this.syncStats(account));
    const history = h("button", { type: "button", class: "ghost small", title: t("accounts.backfillTitle"), dataset: { testid: "backfill" } }, t("accounts.backfill"));
    history.onclick = busy(history, () => this.backfill(account));
    // The daily webhook check's finding (webhookWarning): our subscription is gone, or another integration's is there.
    const warning = account.webhookWarning ? h("div", { class: "bad small", dataset: { testid: "webhook-warning" } }, label("accounts.webhookWarning", account.webhookWarning)) : null;

    let online = h("span", { class: `status ${account.eternalOnlineEnabled ? "ok" : "neutral"}` }, account.eternalOnlineEnabled ? t("accounts.onlineOnEvery", { seconds: account.onlineKeepAliveInterval }) : t("accounts.off"));
    let webhook = h("span", { class: `status ${account.webhookSubscribed ? "ok" : "neutral"}`, dataset: { testid: "webhook-status" } }, account.webhookSubscribed ? t("accounts.subscribed") : t("accounts.notSubscribed"));
    if (admin) {
      const interval = h("input", {
        type: "number",
        min: 60,
        max: 3600,
        step: 30,
        value: String(account.onlineKeepAliveInterval || 300),
        class: "interval",
        title: t("accounts.intervalTitle"),
        dataset: { testid: "online-interval" },
      });
      const toggle = h("input", { type: "checkbox", checked: Boolean(account.eternalOnlineEnabled), dataset: { testid: "eternal-online-toggle" } });
      toggle.onchange = busy(toggle, () => this.setOnline(account, toggle.checked, interval.value));
      interval.onchange = () => account.eternalOnlineEnabled && this.setOnline(account, true, interval.value);
      online = h(
        "div",
        { class: "online-cell" },
        h("label", { class: "check" }, toggle, " ", t("accounts.on")),
        interval,
        h("span", { class: "muted small" }, t("accounts.seconds")),
        account.lastOnlineError ? h("div", { class: "bad small", title: account.lastOnlineError }, t("accounts.keepAliveFailed")) : null,
      );
      const subscribe = h("button", { type: "button", class: "ghost small", dataset: { testid: "webhook-subscribe" } }, account.webhookSubscribed ? t("accounts.resubscribe") : t("accounts.subscribe"));
      subscribe.onclick = busy(subscribe, () => this.subscribe(account));
      let replace = null;
      if (account.webhookWarning) {
        replace = h("button", { type: "button", class: "ghost small", dataset: { testid: "webhook-replace-foreign" } }, t("accounts.replaceForeign"));
        replace.onclick = busy(replace, () => this.subscribe(account, true));
      }
      webhook = h("div", {}, webhook, " ", subscribe, replace ? " " : null, replace, warning);
    } else if (warning) {
      webhook = h("div", {}, webhook, warning);
    }
    return h(
      "tr",
      { dataset: { accountId: account.id, testid: "account-row" } },
      h("td", {}, h("strong", {}, account.name), h("div", { class: "muted small" }, account.userId ? t("accounts.avitoUser", { id: account.userId }) : t("accounts.userUnknown"))),
      h(
        "td",
        {},
        badge(CONNECTION, "accounts.connection", account.connectionStatus, "connection-status"),
        account.lastCheckedAt ? h("div", { class: "muted small", title: fullTime(account.lastCheckedAt) }, shortTime(account.lastCheckedAt)) : null,
        account.lastError ? h("div", { class: "bad small" }, account.lastError) : null,
      ),
      h("td", {}, badge(PROXY, "accounts.proxy", account.proxyStatus, "proxy-status"), account.proxyType ? h("div", { class: "muted small" }, `${account.proxyType}://${account.proxyHost}:${account.proxyPort}`) : null),
      h("td", {}, roubles(account.balanceReal), account.cpaBalance !== null && account.cpaBalance !== undefined ? h("div", { class: "muted small" }, t("accounts.cpa", { amount: roubles(account.cpaBalance) })) : null),
      h("td", {}, account.adsCount ?? "—"),
      h("td", { title: fullTime(account.lastSyncAt) }, account.lastSyncAt ? shortTime(account.lastSyncAt) : t("accounts.never")),
      h("td", {}, online),
      h("td", {}, webhook),
      h("td", { class: "actions" }, check, sync, history, admin ? h("button", { type: "button", class: "ghost small", dataset: { testid: "routing-open" }, onclick: () => this.routing.open(account) }, t("workflow.routing.open")) : null, h("a", { class: "small", href: `#/stats/${enc(account.id)}` }, t("nav.stats")), h("a", { class: "small", href: `#/reviews/${enc(account.id)}`, dataset: { testid: "account-reviews" } }, t("nav.reviews"))),
    );
  }

  async refresh(account) {
    this.updateRow(await this.app.api.get(`/accounts/${enc(account.id)}`));
  }

  async checkConnection(account) {
    try {
      const result = await this.app.api.post(`/accounts/${enc(account.id)}/check-connection`);
      const failed = Object.entries(result.steps || {}).find(([, step]) => step && !step.ok);
      const name = account.name;
      let text = t("accounts.connected", { name });
      if (!result.ok && failed) text = t("accounts.stepFailed", { name, step: label("accounts.step", failed[0]), error: failed[1].error });
      else if (!result.ok) text = t("accounts.checkFailed", { name, status: label("accounts.connection", result.connectionStatus) });
      this.say(text, result.ok ? "success" : "error");
      await this.refresh(account);
    } catch (error) {
      this.say(t("accounts.failed", { name: account.name, error: error.message }), "error");
    }
  }

  async syncStats(account) {
    try {
      const answer = await this.app.api.request("POST", `/accounts/${enc(account.id)}/sync-stats`, { json: {}, full: true });
      if (answer.status === 202 && answer.data?.jobId) {
        const name = account.name;
        this.say(t("accounts.syncBackground", { name }));
        const job = await this.waitForJob(answer.data.jobId, (progress) => this.say(t("accounts.syncProgress", { name, progress })));
        const done = job.status === "done";
        this.say(done ? t("accounts.synced", { name }) : t("accounts.syncFailed", { name, error: job.error || t("accounts.seeJob") }), done ? "success" : "error");
        await this.refresh(account);
      } else {
        this.updateRow(answer.data);
        this.say(t("accounts.synced", { name: account.name }), "success");
      }
    } catch (error) {
      this.say(t("accounts.failed", { name: account.name, error: error.message }), "error");
    }
  }

  /** Polls GET /jobs/{id} until it is done or failed; `onProgress("3/10")` on the way (`onCounts(job)` instead,
   * once the job has a total: a backfill counts chats). */
  async waitForJob(jobId, onProgress, onCounts) {
    for (;;) {
      const job = await this.app.api.get(`/jobs/${enc(jobId)}`);
      if (job.status === "done" || job.status === "failed") return job;
      if (onCounts && job.total) onCounts(job);
      else onProgress?.(job.total ? `${job.done + job.failed}/${job.total}` : label("accounts.job", job.status));
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
    }
  }

  async bulkJob(path, title) {
    try {
      const started = await this.app.api.post(path);
      this.say(t("accounts.jobStarted", { label: title }));
      const job = await this.waitForJob(started.jobId, (progress) => this.say(t("accounts.jobProgress", { label: title, progress })));
      this.say(t("accounts.jobDone", { label: title, done: job.done, failed: job.failed }), job.failed ? "error" : "success");
      await this.app.loadAccounts();
      this.render();
    } catch (error) {
      this.say(t("accounts.failed", { name: title, error: error.message }), "error");
    }
  }

  async setOnline(account, enabled, interval) {
    const seconds = Number.parseInt(interval, 10);
    if (enabled && !(seconds >= 60 && seconds <= 3600)) {
      this.say(t("accounts.intervalRange"), "error");
      return;
    }
    try {
      const path = `/eternal-online/accounts/${enc(account.id)}/${enabled ? "enable" : "disable"}`;
      await this.app.api.post(path, enabled ? { interval: seconds } : undefined);
      this.say(enabled ? t("accounts.onlineOn", { name: account.name, seconds }) : t("accounts.onlineOff", { name: account.name }), "success");
      await this.refresh(account);
    } catch (error) {
      this.say(t("accounts.failed", { name: account.name, error: error.message }), "error");
      await this.refresh(account).catch(() => {});
    }
  }

  /** POST /accounts/{id}/backfill (30 days), then its job's done/total chats until it ends. */
  async backfill(account) {
    const name = account.name;
    try {
      const started = await this.app.api.request("POST", `/accounts/${enc(account.id)}/backfill`, { json: { days: 30 }, full: true });
      this.say(t("accounts.backfillStarted", { name }));
      const job = await this.waitForJob(started.data.jobId, () => {}, (progress) => this.say(t("accounts.backfillProgress", { name, done: progress.done, total: progress.total })));
      const done = job.status === "done";
      this.say(done ? t("accounts.backfillDone", { name, total: job.total }) : t("accounts.backfillFailed", { name, error: job.error || t("accounts.seeJob") }), done ? "success" : "error");
    } catch (error) {
      this.say(t("accounts.failed", { name, error: error.message }), "error");
    }
  }

  async subscribe(account, replaceForeign = false) {
    try {
      const result = await this.app.api.post(`/accounts/${enc(account.id)}/webhook`, replaceForeign ? { replaceForeign: true } : undefined);
      const name = account.name;
      const subscribed = replaceForeign ? t("accounts.foreignReplaced", { name }) : t("accounts.webhookOn", { name });
      this.say(result.subscribed ? subscribed : t("accounts.webhookUnconfirmed", { name }), result.subscribed ? "success" : "error");
      await this.refresh(account);
    } catch (error) {
      this.say(t("accounts.failed", { name: account.name, error: error.message }), "error");
    }
  }
}
