// The inbox: every account's stored chats in one list, newest activity first, with unread badges,
// filters by account and unread, the workflow's tabs (the queue of new chats, mine, all) with a take button,
// a waiting timer on every chat that needs a reply (workflow.js), checkboxes and "close selected" for directors
// and admins, kept current by the live updates (a chat someone takes leaves the queue at once); the open chat on
// the right.

import { h, replace } from "./dom.js";
import { fullTime, shortTime, t } from "./i18n.js";
import { preview } from "./messages.js";
import { ChatView } from "./chat.js";
import { SearchBox } from "./answering.js";

export const chatKey = (accountId, chatId) => `${accountId}/${chatId}`;

export function activityOf(chat) {
  return chat.lastMessage?.createdAt || chat.updatedAt || chat.createdAt || "";
}

export class InboxView {
  constructor(app, filters = { accountId: "", unreadOnly: false, tab: "all" }) {
    this.app = app;
    this.chats = new Map();
    this.nextCursor = null;
    this.filters = { ...filters };
    this.open = null; // {accountId, chatId}
    this.loading = false;
    this.list = h("ul", { class: "chat-list", dataset: { testid: "inbox" }, "aria-label": t("inbox.chats") });
    this.more = h("button", { type: "button", class: "ghost wide", hidden: true, onclick: () => this.load(true) }, t("inbox.loadMore"));
    this.status = h("div", { class: "muted small list-status", dataset: { testid: "inbox-status" } });
    this.empty = h("div", { class: "muted small list-status", hidden: true }, t("inbox.noMatch"));
    this.summary = h("div", { class: "muted small list-summary", dataset: { testid: "inbox-summary" } });
    this.accountFilter = h("select", {
      dataset: { testid: "filter-account" },
      "aria-label": t("inbox.account"),
      onchange: () => this.setFilters({ accountId: this.accountFilter.value }),
    });
    this.unreadFilter = h("input", {
      type: "checkbox",
      checked: this.filters.unreadOnly,
      dataset: { testid: "filter-unread" },
      onchange: () => this.setFilters({ unreadOnly: this.unreadFilter.checked }),
    });
    this.tabs = ["new", "mine", "all"].map((tab) =>
      h("button", { type: "button", class: "tab", dataset: { testid: `tab-${tab}`, tab }, onclick: () => this.setFilters({ tab }) }, t(`inbox.tab.${tab}`)),
    );
    this.selected = new Set(); // chat keys ticked for bulk close (directors, admins)
    this.bulkButton = h("button", { type: "button", class: "small danger", dataset: { testid: "bulk-close" }, onclick: () => this.closeSelected() });
    this.bulkBar = h("div", { class: "bulk-bar", hidden: true, dataset: { testid: "bulk-bar" } }, this.bulkButton, h("button", { type: "button", class: "ghost small", onclick: () => this.clearSelection() }, t("workflow.bulk.clear")));
    this.chatView = new ChatView(app, this);
    this.search = new SearchBox(app);
    this.search.onchange = (active) => {
      this.list.hidden = active;
      this.summary.hidden = active;
      this.render();
    };
    this.element = h(
      "section",
      { class: "inbox-view" },
      h(
        "aside",
        { class: "inbox-pane" },
        this.search.element,
        h("div", { class: "tabs", role: "group" }, this.tabs),
        h("div", { class: "filters" }, this.accountFilter, h("label", { class: "check" }, this.unreadFilter, " ", t("inbox.unreadOnly"))),
        this.search.status,
        this.search.results,
        this.summary,
        this.bulkBar,
        this.status,
        this.empty,
        this.list,
        this.more,
      ),
      this.chatView.element,
    );
  }

  renderAccountFilter() {
    const current = this.filters.accountId;
    replace(
      this.accountFilter,
      h("option", { value: "" }, t("inbox.allAccounts")),
      [...this.app.accounts.values()].map((account) => h("option", { value: account.id, selected: account.id === current }, account.name || account.id)),
    );
    this.accountFilter.value = current;
  }

  setFilters(change) {
    this.filters = { ...this.filters, ...change };
    this.load(false);
  }

  matches(chat) {
    if (this.filters.accountId && chat.accountId !== this.filters.accountId) return false;
    if (this.filters.unreadOnly && !(chat.unreadCount > 0)) return false;
    if (this.filters.tab === "new" && (chat.status || "new") !== "new") return false;
    if (this.filters.tab === "mine" && chat.assignee?.userId !== this.app.session.userId) return false;
    return true;
  }

  /** Takes a chat (claim): it becomes the caller's; someone faster gets it and the service says who. */
  async take(chat) {
    const query = `?accountId=${encodeURIComponent(chat.accountId)}`;
    try {
      this.upsert(await this.app.api.post(`/chats/${encodeURIComponent(chat.id)}/claim${query}`));
      this.status.textContent = "";
    } catch (error) {
      this.status.textContent = t("inbox.takeFailed", { error: error.message });
      if (error.status !== 409) return;
      // someone was faster: the chat is read again (it leaves the queue) and the message names who has it
      await this.fetchChat(chat.accountId, chat.id, true);
      const fresh = this.chats.get(chatKey(chat.accountId, chat.id));
      if (error.code === "chat_taken" && fresh?.assignee) this.status.textContent = t("workflow.taken", { name: fresh.assignee.name || fresh.assignee.userId });
    }
  }

  /** Loads the first page (or, with `more`, the next page) of stored chats for the current filters. */
  async load(more = false) {
    if (this.loading) return;
    this.loading = true;
    this.status.textContent = t("inbox.loading");
    try {
      const { items, nextCursor } = await this.app.api.page("/chats", {
        limit: 50,
        accountId: this.filters.accountId,
        unreadOnly: this.filters.unreadOnly ? "true" : "",
        cursor: more ? this.nextCursor : "",
        status: this.filters.tab === "new" ? "new" : "",
        assignee: this.filters.tab === "mine" ? "me" : "",
      });
      if (!more) this.chats.clear();
      for (const chat of items) this.chats.set(chatKey(chat.accountId, chat.id), chat);
      this.nextCursor = nextCursor;
      this.status.textContent = "";
    } catch (error) {
      this.status.textContent = t("inbox.loadFailed", { error: error.message });
    } finally {
      this.loading = false;
      this.render();
    }
  }

  render() {
    for (const tab of this.tabs) tab.setAttribute("aria-pressed", String(tab.dataset.tab === this.filters.tab));
    const chats = [...this.chats.values()].filter((chat) => this.matches(chat));
    chats.sort((a, b) => activityOf(b).localeCompare(activityOf(a)));
    replace(this.list, chats.map((chat) => this.itemElement(chat)));
    this.empty.hidden = chats.length > 0 || this.loading;
    this.more.hidden = !this.nextCursor || this.search.active;
    if (this.search.active) this.empty.hidden = true;
    const unread = [...this.chats.values()].reduce((sum, chat) => sum + (chat.unreadCount || 0), 0);
    const listedUnread = chats.reduce((sum, chat) => sum + (chat.unreadCount || 0), 0);
    this.summary.textContent = `${t(this.nextCursor ? "inbox.chatCountMore" : "inbox.chatCount", { count: chats.length })} · ${
      listedUnread ? t("inbox.unreadCount", { count: listedUnread }) : t("inbox.allRead")
    }`;
    this.summary.dataset.chats = String(chats.length);
    this.summary.dataset.unread = String(listedUnread);
    this.app.setUnreadTotal(unread);
    this.renderBulk();
  }

  get canBulkClose() {
    return this.app.workflow.supervisor;
  }

  renderBulk() {
    for (const key of [...this.selected]) if (!this.chats.has(key)) this.selected.delete(key);
    this.bulkBar.hidden = !this.canBulkClose || this.selected.size === 0;
    this.bulkButton.textContent = t("workflow.bulk.close", { count: this.selected.size });
  }

  clearSelection() {
    this.selected.clear();
    this.render();
  }

  /** POST /chats/close (directors, admins): up to 100 ticked chats at once; each answers closed or not_found. */
  async closeSelected() {
    const items = [...this.selected].slice(0, 100).map((key) => {
      const chat = this.chats.get(key);
      return { accountId: chat.accountId, chatId: chat.id };
    });
    if (!items.length) return;
    this.bulkButton.disabled = true;
    try {
      const outcomes = await this.app.api.post("/chats/close", { items });
      const closed = outcomes.filter((outcome) => outcome.status === "closed");
      for (const outcome of closed) {
        const key = chatKey(outcome.accountId, outcome.chatId);
        const chat = this.chats.get(key);
        this.selected.delete(key);
        if (chat) this.upsert({ ...chat, status: "closed", awaitingReplySince: null });
      }
      this.status.textContent = t("workflow.bulk.closed", { count: closed.length }) + (closed.length < items.length ? ` ${t("workflow.bulk.notFound", { count: items.length - closed.length })}` : "");
    } catch (error) {
      this.status.textContent = t("workflow.bulk.failed", { error: error.message });
    } finally {
      this.bulkButton.disabled = false;
      this.render();
    }
  }

  itemElement(chat) {
    const account = this.app.accounts.get(chat.accountId);
    const isOpen = this.open && this.open.accountId === chat.accountId && this.open.chatId === chat.id;
    const href = `#/inbox/${encodeURIComponent(chat.accountId)}/${encodeURIComponent(chat.id)}`;
    const name = chat.clientName || t("chat.avitoUser");
    const key = chatKey(chat.accountId, chat.id);
    const pick = this.canBulkClose && (chat.status || "new") !== "closed"
      ? h("input", {
          type: "checkbox",
          class: "pick",
          checked: this.selected.has(key),
          "aria-label": t("workflow.bulk.pick", { name }),
          dataset: { testid: "select-chat" },
          onchange: (event) => {
            if (event.target.checked) this.selected.add(key);
            else this.selected.delete(key);
            this.renderBulk();
          },
        })
      : null;
    return h(
      "li",
      { class: `chat-item${isOpen ? " open" : ""}${chat.unreadCount > 0 ? " unread" : ""}${pick ? " pickable" : ""}`, dataset: { testid: "chat-item", chatId: chat.id, accountId: chat.accountId } },
      pick,
      h(
        "a",
        { href, "aria-current": isOpen ? "true" : null },
        h("span", { class: "avatar", "aria-hidden": "true" }, name.trim().charAt(0).toUpperCase() || "?"),
        h(
          "span",
          { class: "chat-main" },
          h("span", { class: "row" }, h("strong", { class: "client", dataset: { testid: "chat-client" } }, name), h("time", { datetime: activityOf(chat), title: fullTime(activityOf(chat)) }, shortTime(activityOf(chat)))),
          h("span", { class: "row" }, h("span", { class: "item-title" }, chat.itemTitle || ""), h("span", { class: "account-tag", dataset: { testid: "chat-account" } }, account?.name || "")),
          h(
            "span",
            { class: "row" },
            h("span", { class: "preview", dataset: { testid: "chat-preview" } }, preview(chat.lastMessage)),
            chat.unreadCount > 0 ? h("span", { class: "badge", dataset: { testid: "unread-badge" }, title: t("inbox.unreadCount", { count: chat.unreadCount }) }, String(chat.unreadCount)) : null,
          ),
          h(
            "span",
            { class: "row wf-row" },
            h("span", { class: "status-tag", dataset: { testid: "chat-status", status: chat.status || "new" } }, t(`inbox.status.${chat.status || "new"}`)),
            chat.assignee ? h("span", { class: "assignee", dataset: { testid: "chat-assignee" } }, chat.assignee.name || chat.assignee.userId) : null,
            this.app.workflow.timer(chat),
          ),
        ),
      ),
      (chat.status || "new") === "new"
        ? h("button", { type: "button", class: "ghost small take", dataset: { testid: "take" }, onclick: () => this.take(chat) }, t("inbox.take"))
        : null,
    );
  }

  /** Route: #/inbox or #/inbox/<accountId>/<chatId>. */
  show(accountId, chatId) {
    this.renderAccountFilter();
    this.open = accountId && chatId ? { accountId, chatId } : null;
    this.render();
    this.chatView.show(this.open, this.open ? this.chats.get(chatKey(accountId, chatId)) : null);
  }

  /** avito-chat-assigned {accountId, chatId, status, assignee, by}: the chat's new status and assignee, at once. */
  assigned(data) {
    const chat = this.chats.get(chatKey(data.accountId, data.chatId));
    if (chat) this.upsert({ ...chat, status: data.status, assignee: data.assignee ?? null });
    else this.fetchChat(data.accountId, data.chatId);
  }

  /** avito-chat-waiting for a chat this list does not hold yet: it is read, so its timer shows. */
  waitingAlert(data) {
    if (!this.chats.has(chatKey(data.accountId, data.chatId))) this.fetchChat(data.accountId, data.chatId);
  }

  async fetchChat(accountId, chatId, known = false) {
    try {
      const chat = await this.app.api.get(`/chats/${encodeURIComponent(chatId)}`, { accountId });
      if (chat?.id && (known || this.matches(chat))) this.upsert(chat);
    } catch {
      // not stored or not the caller's: nothing to show
    }
  }

  /** A chat's stored state changed (live update, our own send or read). */
  upsert(chat) {
    if (!chat || !chat.id || !chat.accountId) return;
    const key = chatKey(chat.accountId, chat.id);
    const isOpen = this.open && key === chatKey(this.open.accountId, this.open.chatId);
    this.chats.set(key, chat);
    this.render();
    if (isOpen) this.chatView.chatChanged(chat);
    if (!chat.clientName) this.enrich(chat);
  }

  /**
   * A chat first seen through a webhook has no client name or item yet (deliveries carry neither): ask
   * Avito once for the chat, which stores it; the stored change comes back as a live update.
   */
  async enrich(chat) {
    const key = chatKey(chat.accountId, chat.id);
    this.enriched = this.enriched || new Set();
    if (this.enriched.has(key)) return;
    this.enriched.add(key);
    try {
      const fresh = await this.app.api.get(`/messenger/accounts/${encodeURIComponent(chat.accountId)}/chats/${encodeURIComponent(chat.id)}`);
      if (fresh?.id === chat.id) this.upsert({ ...this.chats.get(key), ...fresh });
    } catch {
      // the chat shows as "Avito user" (in the language) until Avito tells more
    }
  }

  /** Our own message was sent: it is the chat's last message now (the live update confirms it). */
  sent(message) {
    const chat = this.chats.get(chatKey(message.accountId, message.chatId));
    if (!chat) return;
    const lastMessage = { id: message.id, text: message.text, type: message.type, direction: message.direction, createdAt: message.createdAt };
    if (activityOf(chat) <= message.createdAt) this.upsert({ ...chat, lastMessage, updatedAt: message.createdAt });
  }

  /** Marks a chat read in the list at once (the service confirms with a live update). */
  markedRead(accountId, chatId) {
    const chat = this.chats.get(chatKey(accountId, chatId));
    if (chat && chat.unreadCount) this.upsert({ ...chat, unreadCount: 0 });
  }
}
