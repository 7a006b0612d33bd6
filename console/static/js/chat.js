// One chat: its messages oldest first, the composer (Enter sends text; paste or pick an image), marking
// read on open, deleting an own recent message, blocking the client; the chat's workflow (status, timer, actions,
// tags) under its header and its internal notes beside it (workflow.js).

import { h, replace, safeUrl } from "./dom.js";
import { enc, idempotencyKey } from "./api.js";
import { messageElement } from "./messages.js";
import { t } from "./i18n.js";
import { ClientCard, QuickReplies } from "./answering.js";
import { WorkflowPanel } from "./workflow.js";

const MAX_TEXT = 1000;
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const BLACKLIST_REASONS = ["spam", "fraud", "insults", "other"];

function byTime(a, b) {
  return (a.createdAt || "").localeCompare(b.createdAt || "") || String(a.id).localeCompare(String(b.id));
}

export class ChatView {
  constructor(app, inbox) {
    this.app = app;
    this.inbox = inbox;
    this.open = null;
    this.chat = null;
    this.messages = new Map();
    this.generation = 0; // a newer show() makes the answers of an older one stale
    this.readPending = false;

    this.header = h("header", { class: "chat-header" });
    this.list = h("ol", { class: "messages", dataset: { testid: "messages" }, "aria-live": "polite" });
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "chat-notice" } });
    this.emptyNote = h("li", { class: "muted empty" }, t("chat.empty"));
    this.rendered = new Map();
    this.input = h("textarea", {
      rows: 2,
      maxlength: MAX_TEXT,
      placeholder: t("chat.placeholder"),
      dataset: { testid: "composer-input" },
      "aria-label": t("chat.message"),
      onkeydown: (event) => {
        if (this.quick.keydown(event)) return;
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.sendText();
        }
      },
      onpaste: (event) => this.pasted(event),
      oninput: () => {
        this.updateCounter();
        this.quick.changed();
      },
      onblur: () => this.quick.close(),
    });
    this.quick = new QuickReplies(app, this);
    this.card = new ClientCard(app);
    this.counter = h("span", { class: "muted small counter" });
    this.file = h("input", {
      type: "file",
      accept: "image/jpeg,image/png,image/gif,image/heic,image/bmp",
      hidden: true,
      dataset: { testid: "attach-input" },
      onchange: () => {
        const [picked] = this.file.files;
        if (picked) this.sendImage(picked);
        this.file.value = "";
      },
    });
    this.sendButton = h("button", { type: "submit", class: "primary", dataset: { testid: "send" } }, t("chat.send"));
    this.composer = h(
      "form",
      {
        class: "composer",
        dataset: { testid: "composer" },
        onsubmit: (event) => {
          event.preventDefault();
          this.sendText();
        },
      },
      h("button", { type: "button", class: "ghost", title: t("chat.attachTitle"), dataset: { testid: "attach" }, onclick: () => this.file.click() }, t("chat.attach")),
      this.file,
      this.input,
      h("div", { class: "composer-side" }, this.sendButton, this.counter),
    );
    this.placeholder = h("div", { class: "placeholder muted" }, t("chat.choose"));
    this.workflow = new WorkflowPanel(app, this);
    this.body = h("div", { class: "chat-body" }, this.header, this.workflow.element, this.notice, this.list, this.quick.element, this.composer);
    this.columns = h("div", { class: "chat-columns", hidden: true }, this.body, h("div", { class: "chat-side" }, this.workflow.notesElement, this.card.element));
    this.element = h("section", { class: "chat-pane", dataset: { testid: "chat" } }, this.placeholder, this.columns);
  }

  get base() {
    return `/messenger/accounts/${enc(this.open.accountId)}/chats/${enc(this.open.chatId)}`;
  }

  isOpen(accountId, chatId) {
    return Boolean(this.open && this.open.accountId === accountId && this.open.chatId === chatId);
  }

  say(text, kind = "info") {
    this.notice.hidden = !text;
    this.notice.className = `notice ${kind}`;
    this.notice.textContent = text || "";
  }

  async show(open, chat) {
    if (!open) {
      this.open = null;
      this.placeholder.hidden = false;
      this.columns.hidden = true;
      return;
    }
    if (this.isOpen(open.accountId, open.chatId)) return;
    const generation = ++this.generation;
    this.open = open;
    this.chat = chat || null;
    this.messages.clear();
    this.rendered = new Map();
    this.placeholder.hidden = true;
    this.columns.hidden = false;
    this.quick.close();
    this.card.show(open);
    this.say("");
    this.renderHeader();
    this.workflow.show(this.chat);
    this.renderMessages();
    this.input.value = "";
    this.updateCounter();
    const query = { accountId: open.accountId };
    try {
      const known = Boolean(this.chat);
      if (!known) this.chat = await this.app.api.get(`/chats/${enc(open.chatId)}`, query);
      if (generation !== this.generation) return;
      this.renderHeader();
      if (!known) this.workflow.show(this.chat);
      const stored = await this.app.api.all(`/chats/${enc(open.chatId)}/messages`, query);
      if (generation !== this.generation) return;
      this.merge(stored);
      this.markRead();
    } catch (error) {
      if (generation === this.generation) this.say(t("chat.loadFailed", { error: error.message }), "error");
    }
    this.input.focus();
    // What Avito has that storage may not have yet (a missed webhook); stored as a side effect.
    try {
      const fresh = await this.app.api.get(`${this.base}/messages`, { limit: 50 });
      if (generation === this.generation) this.merge(fresh);
    } catch {
      // the stored messages are shown; the live listing is a bonus (Messenger may be unavailable)
    }
  }

  merge(messages) {
    for (const message of messages || []) {
      if (message && message.id && (!message.chatId || message.chatId === this.open?.chatId)) this.messages.set(message.id, message);
    }
    this.renderMessages();
  }

  renderHeader() {
    const chat = this.chat || {};
    const account = this.app.accounts.get(this.open?.accountId);
    const itemUrl = safeUrl(chat.itemUrl);
    replace(
      this.header,
      h(
        "div",
        { class: "chat-title" },
        h("h2", { dataset: { testid: "chat-client-name" } }, chat.clientName || t("chat.avitoUser")),
        h(
          "div",
          { class: "muted small" },
          itemUrl ? h("a", { href: itemUrl, target: "_blank", rel: "noopener noreferrer" }, chat.itemTitle || t("chat.item")) : chat.itemTitle || "",
          account ? ` · ${account.name}` : "",
        ),
      ),
      chat.clientUserId
        ? h("button", { type: "button", class: "ghost danger", dataset: { testid: "blacklist" }, onclick: () => this.askBlacklist() }, t("chat.block"))
        : null,
    );
  }

  /** Keyed rendering: an unchanged message keeps its element (a playing voice note keeps playing). */
  renderMessages() {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    const messages = [...this.messages.values()].sort(byTime);
    const actions = { voiceUrl: (m, id) => this.voiceUrl(id), remove: (m) => this.askDelete(m) };
    const previous = this.rendered || new Map();
    this.rendered = new Map();
    const elements = messages.map((message) => {
      const json = JSON.stringify(message);
      const kept = previous.get(message.id);
      const element = kept && kept.json === json ? kept.element : messageElement(message, actions);
      this.rendered.set(message.id, { json, element });
      return element;
    });
    if (!elements.length) elements.push(this.emptyNote);
    const current = [...this.list.children];
    if (current.length === elements.length && current.every((el, index) => el === elements[index])) return;
    this.list.replaceChildren(...elements);
    if (atBottom || messages.length < 30) this.list.scrollTop = this.list.scrollHeight;
  }

  updateCounter() {
    const length = this.input.value.length;
    this.counter.textContent = length > MAX_TEXT * 0.8 ? `${length}/${MAX_TEXT}` : "";
  }

  // ---------------------------------------------------------------- live updates
  /** A message was stored (live update): show it if it belongs here; read incoming ones at once. */
  newMessage(data) {
    if (!this.isOpen(data.accountId, data.chatId) || !data.message) return;
    this.merge([data.message]);
    if (data.message.direction === "in" && document.visibilityState === "visible") this.markRead(true);
  }

  /** avito-chat-note {accountId, chatId, note}: a note a colleague (or this user elsewhere) added to a chat. */
  noteAdded(data) {
    if (this.isOpen(data.accountId, data.chatId) && data.note) this.workflow.showNote(data.note);
  }

  chatChanged(chat) {
    this.chat = { ...this.chat, ...chat };
    this.renderHeader();
    this.workflow.changed(this.chat);
  }

  // ---------------------------------------------------------------- actions
  async markRead(force = false) {
    const chat = this.inbox.chats.get(`${this.open.accountId}/${this.open.chatId}`) || this.chat;
    if (!force && !(chat?.unreadCount > 0)) return;
    const last = [...this.messages.values()].sort(byTime).pop() || chat?.lastMessage;
    if (!last?.id || this.readPending) return;
    this.readPending = true;
    const { accountId, chatId } = this.open;
    try {
      await this.app.api.post(`${this.base}/messages/${enc(last.id)}/read`);
      this.inbox.markedRead(accountId, chatId);
    } catch (error) {
      this.say(t("chat.markReadFailed", { error: error.message }), "error");
    } finally {
      this.readPending = false;
    }
  }

  async sendText() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) {
      this.say(t("chat.tooLong", { count: MAX_TEXT }), "error");
      return;
    }
    this.sendButton.disabled = true;
    const open = this.open;
    try {
      const message = await this.app.api.post(`${this.base}/send`, { text }, { "Idempotency-Key": idempotencyKey() });
      if (this.isOpen(open.accountId, open.chatId)) {
        this.input.value = "";
        this.updateCounter();
        this.say("");
        this.merge([message]);
      }
      this.inbox.sent(message);
    } catch (error) {
      this.say(t("chat.notSent", { error: error.message }), "error");
    } finally {
      this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  pasted(event) {
    const item = [...(event.clipboardData?.items || [])].find((entry) => entry.kind === "file" && entry.type.startsWith("image/"));
    if (!item) return;
    event.preventDefault();
    const file = item.getAsFile();
    if (file) this.sendImage(file);
  }

  async sendImage(file) {
    if (file.size > MAX_IMAGE_BYTES) {
      this.say(t("chat.imageTooLarge"), "error");
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name || "image");
    this.say(t("chat.sendingImage"));
    const open = this.open;
    try {
      const message = await this.app.api.request("POST", `${this.base}/images`, { form, headers: { "Idempotency-Key": idempotencyKey() } });
      if (this.isOpen(open.accountId, open.chatId)) {
        this.say("");
        this.merge([message]);
      }
      this.inbox.sent(message);
    } catch (error) {
      this.say(t("chat.imageNotSent", { error: error.message }), "error");
    }
  }

  async voiceUrl(voiceId) {
    const urls = await this.app.api.post(`/messenger/accounts/${enc(this.open.accountId)}/voice-files`, { voiceIds: [voiceId] });
    return urls?.[voiceId];
  }

  askDelete(message) {
    const row = this.list.querySelector(`[data-message-id="${CSS.escape(message.id)}"] .meta`);
    if (!row || row.querySelector(".confirm")) return;
    const confirm = h(
      "span",
      { class: "confirm" },
      ` ${t("chat.confirmDelete")} `,
      h("button", { type: "button", class: "link danger small", dataset: { testid: "confirm-delete" }, onclick: () => this.remove(message) }, t("common.yes")),
      " ",
      h("button", { type: "button", class: "link small", onclick: () => confirm.remove() }, t("common.no")),
    );
    row.append(confirm);
  }

  async remove(message) {
    try {
      const answer = await this.app.api.request("DELETE", `${this.base}/messages/${enc(message.id)}`);
      const updated = answer && answer.id === message.id && answer.type ? answer : { ...message, type: "deleted", text: null, content: {} };
      this.merge([updated]);
    } catch (error) {
      this.say(t("chat.notDeleted", { error: error.message }), "error");
      this.renderMessages();
    }
  }

  askBlacklist() {
    const chat = this.chat || {};
    const reason = h("select", { dataset: { testid: "blacklist-reason" } }, BLACKLIST_REASONS.map((value) => h("option", { value }, t(`reason.${value}`))));
    const dialog = h(
      "dialog",
      { class: "dialog", dataset: { testid: "blacklist-dialog" } },
      h(
        "form",
        {
          method: "dialog",
          onsubmit: async (event) => {
            event.preventDefault();
            dialog.close();
            dialog.remove();
            await this.blacklist(chat, reason.value);
          },
        },
        h("h3", {}, chat.clientName ? t("chat.blockTitle", { name: chat.clientName }) : t("chat.blockThisUser")),
        h("p", { class: "muted" }, t("chat.blockExplain")),
        h("label", {}, t("chat.reason"), " ", reason),
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", class: "ghost", onclick: () => { dialog.close(); dialog.remove(); } }, t("common.cancel")),
          h("button", { type: "submit", class: "primary danger", dataset: { testid: "blacklist-confirm" } }, t("chat.blockConfirm")),
        ),
      ),
    );
    document.body.append(dialog);
    dialog.showModal();
  }

  async blacklist(chat, reason) {
    const body = { userId: String(chat.clientUserId), reason };
    if (chat.itemId) body.itemId = String(chat.itemId);
    try {
      await this.app.api.post(`/messenger/accounts/${enc(this.open.accountId)}/blacklist`, body);
      this.say(chat.clientName ? t("chat.blocked", { name: chat.clientName }) : t("chat.blockedUser"), "success");
    } catch (error) {
      this.say(t("chat.notBlocked", { error: error.message }), "error");
    }
  }
}
