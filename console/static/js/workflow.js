// The chat workflow in the console (issue 25): the waiting timer on every chat that needs a reply (amber at the
// account's first alert threshold, red at the second, a chime at each threshold and on the service's
// avito-chat-waiting frames, once per threshold per waiting period), the open chat's action bar (take, transfer,
// release, close, reopen, no reply needed: only what the state machine and the caller's role allow), its tags and
// internal notes, the presence switch of the top bar, bulk close for directors and admins, and an account's
// routing and alert thresholds (admins).
//
// One ticker (a second) repaints every timer on the page in place: a timer's width is fixed (tabular digits),
// so its ticking never moves the layout. Time is Date.now(): the browser tests shift it to cross thresholds.

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { fullTime, shortTime, t } from "./i18n.js";

export const DEFAULT_THRESHOLDS = [5, 15, 30]; // minutes: the service's default (contract, "Chat workflow")
const SUPERVISORS = ["admin", "director"];
const MODES = ["off", "round_robin", "least_busy"];
const MAX_TAGS = 20;
const MAX_TAG = 32;
const MAX_NOTE = 4000;

const keyOf = (accountId, chatId) => `${accountId}/${chatId}`;

/** Seconds a chat has needed a reply (null when it needs none). */
export function waitingSeconds(chat, now = Date.now()) {
  if (!chat?.awaitingReplySince || chat.status === "closed") return null;
  const since = Date.parse(chat.awaitingReplySince);
  return Number.isNaN(since) ? null : Math.max(0, Math.floor((now - since) / 1000));
}

/** How many of the (ascending) thresholds in minutes `seconds` has passed. */
export function crossedCount(seconds, minutes) {
  return minutes.filter((minute) => seconds >= minute * 60).length;
}

/** none below the first threshold, amber from the first, red from the second. */
export function waitLevel(seconds, minutes) {
  const crossed = crossedCount(seconds, minutes);
  return crossed >= 2 ? "red" : crossed === 1 ? "amber" : "none";
}

/** 0:42, 12:05, 1:02:03 (the digits are tabular, so the width holds while it ticks). */
export function formatWait(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/**
 * The console's side of the workflow: thresholds per account (GET /accounts/{id}/routing, any role), the timers'
 * ticker and the chimes. `app.workflow` is one of these.
 */
export class Workflow {
  constructor(app) {
    this.app = app;
    this.thresholds = new Map(); // accountId -> ascending minutes
    this.loading = new Map(); // accountId -> Promise
    this.seen = new Map(); // "<account>/<chat>@<since>" -> thresholds crossed when last looked
    this.alerted = new Set(); // "<account>/<chat>@<since>#<minutes>": chimed once per threshold per waiting period
    this.ticker = null;
  }

  start() {
    if (!this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
  }

  get supervisor() {
    return SUPERVISORS.includes(this.app.session.role);
  }

  /** The account's thresholds, read once and then kept current; null until read (no colour, no chime yet). */
  minutes(accountId) {
    const known = this.thresholds.get(accountId);
    if (known) return known;
    this.loadThresholds(accountId);
    return null;
  }

  loadThresholds(accountId) {
    if (!accountId || this.loading.has(accountId)) return this.loading.get(accountId);
    const loading = this.app.api
      .get(`/accounts/${enc(accountId)}/routing`)
      .then((routing) => this.routingChanged(routing))
      .catch(() => {
        this.loading.delete(accountId); // tried again at the next look
      });
    this.loading.set(accountId, loading);
    return loading;
  }

  routingChanged(routing) {
    if (!routing?.accountId) return;
    const minutes = [...(routing.waitAlertMinutes?.length ? routing.waitAlertMinutes : DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
    this.thresholds.set(routing.accountId, minutes);
    this.tick();
  }

  /** A timer for a chat: repainted every second while it is in the page. */
  timer(chat, testid = "wait-timer") {
    const element = h("span", {
      class: "wait-timer",
      role: "timer",
      dataset: { testid, accountId: chat.accountId, chatId: chat.id, since: chat.awaitingReplySince || "", status: chat.status || "new" },
    });
    this.paint(element);
    return element;
  }

  paint(element) {
    const { accountId, since, status } = element.dataset;
    const seconds = waitingSeconds({ awaitingReplySince: since, status });
    if (seconds === null) {
      element.hidden = true;
      element.dataset.level = "none";
      return;
    }
    const minutes = this.minutes(accountId);
    const level = minutes ? waitLevel(seconds, minutes) : "none";
    element.hidden = false;
    element.textContent = formatWait(seconds);
    element.dataset.level = level;
    element.dataset.seconds = String(seconds);
    element.dataset.thresholds = minutes ? minutes.join(",") : "";
    element.title = t(`workflow.wait.${level}`, { since: fullTime(since), minutes: (minutes || DEFAULT_THRESHOLDS).join(", ") });
  }

  /** Every second: repaint the timers; chime when a chat of the inbox crosses one of its account's thresholds. */
  tick() {
    for (const element of document.querySelectorAll(".wait-timer")) this.paint(element);
    const chats = this.app.views?.inbox?.chats;
    if (!chats) return;
    for (const chat of chats.values()) {
      const seconds = waitingSeconds(chat);
      if (seconds === null) continue;
      const minutes = this.minutes(chat.accountId);
      if (!minutes) continue; // the account's thresholds are being read
      const period = `${keyOf(chat.accountId, chat.id)}@${chat.awaitingReplySince}`;
      const crossed = crossedCount(seconds, minutes);
      const before = this.seen.get(period);
      this.seen.set(period, crossed);
      if (before === undefined) continue; // first seen already waiting that long: the service's frame says it
      for (let index = before; index < crossed; index += 1) this.alert(period, minutes[index]);
    }
  }

  /** avito-chat-waiting {accountId, chatId, waitingSeconds, threshold, assignee}: the service's alert. */
  waiting(data) {
    const chat = this.app.views?.inbox?.chats.get(keyOf(data.accountId, data.chatId));
    const period = `${keyOf(data.accountId, data.chatId)}@${chat?.awaitingReplySince || "frame"}`;
    this.alert(period, data.threshold);
    this.app.views?.inbox?.waitingAlert(data);
  }

  alert(period, minutes) {
    const id = `${period}#${minutes}`;
    if (this.alerted.has(id)) return;
    this.alerted.add(id);
    this.app.chime.play(); // unless muted (the top bar's switch)
    if (!this.app.muteButton) return;
    this.app.muteButton.dataset.chimes = String(this.app.chime.played);
    const shown = id.replace(/@[^#]*#/, "#"); // "<account>/<chat>#<minutes>"
    this.app.muteButton.dataset.lastAlert = shown;
    const recent = (this.app.muteButton.dataset.alerts || "").split(" ").filter(Boolean);
    this.app.muteButton.dataset.alerts = [...recent, shown].slice(-20).join(" "); // the last 20 alerts, in order

  }

  /** The actions the state machine and the caller's role allow on a chat now (the service decides anyway). */
  actions(chat) {
    const status = chat.status || "new";
    const me = this.app.session.userId;
    const mine = chat.assignee?.userId === me;
    const handles = mine || this.supervisor; // the assignee, a director or an admin
    const allowed = [];
    if (status === "new") allowed.push("claim");
    if (status === "closed") allowed.push("reopen");
    // GET /users is for directors and admins only: an operator cannot list colleagues, so cannot pick a target
    if (status !== "closed" && this.supervisor) allowed.push("transfer");
    if (status !== "closed" && chat.assignee && handles) allowed.push("release");
    if (chat.awaitingReplySince && status !== "closed") allowed.push("no-reply-needed");
    if (status !== "closed" && !(status === "open" && chat.assignee && !handles)) allowed.push("close");
    return allowed;
  }

  /** POST /chats/{id}/<action>: the chat as it is now, or an ApiError. */
  act(chat, action, body) {
    return this.app.api.post(`/chats/${enc(chat.id)}/${action}?accountId=${enc(chat.accountId)}`, body);
  }

  /** Users a chat may go to: enabled, may see the account (an operator only the accounts assigned to them). */
  async transferTargets(chat) {
    const users = await this.app.api.all("/users");
    return users.filter(
      (user) => user.enabled && user.id !== chat.assignee?.userId && (user.role !== "operator" || (user.accountIds || []).includes(chat.accountId)),
    );
  }
}

/** The open chat's workflow: status, assignee, timer, the allowed actions, tags; notes in the side column. */
export class WorkflowPanel {
  constructor(app, chatView) {
    this.app = app;
    this.chatView = chatView;
    this.chat = null;
    this.generation = 0;
    this.bar = h("div", { class: "workflow-bar", dataset: { testid: "workflow" } });
    this.tags = h("div", { class: "workflow-tags", dataset: { testid: "tags" } });
    this.picker = h("div", { class: "transfer-picker", hidden: true, dataset: { testid: "transfer-picker" } });
    this.element = h("section", { class: "workflow", "aria-label": t("workflow.title") }, this.bar, this.picker, this.tags);
    this.noteList = h("ol", { class: "notes", dataset: { testid: "notes" } });
    this.noteInput = h("textarea", { rows: 2, maxlength: MAX_NOTE, placeholder: t("workflow.notePlaceholder"), "aria-label": t("workflow.note"), dataset: { testid: "note-input" } });
    this.noteButton = h("button", { type: "submit", class: "small", dataset: { testid: "note-add" } }, t("workflow.addNote"));
    this.noteForm = h(
      "form",
      {
        class: "note-form",
        onsubmit: (event) => {
          event.preventDefault();
          this.addNote();
        },
      },
      this.noteInput,
      this.noteButton,
    );
    this.notesElement = h(
      "section",
      { class: "notes-panel", dataset: { testid: "notes-panel" } },
      h("h3", {}, t("workflow.notes")),
      h("p", { class: "muted small" }, t("workflow.notesExplain")),
      this.noteList,
      this.noteForm,
    );
  }

  get workflow() {
    return this.app.workflow;
  }

  show(chat) {
    this.generation += 1;
    this.chat = chat;
    this.picker.hidden = true;
    replace(this.noteList);
    this.render();
    this.loadNotes();
  }

  changed(chat) {
    const before = JSON.stringify([this.chat?.status, this.chat?.assignee, this.chat?.awaitingReplySince, this.chat?.tags]);
    this.chat = chat;
    if (before !== JSON.stringify([chat.status, chat.assignee, chat.awaitingReplySince, chat.tags])) this.render();
  }

  render() {
    const chat = this.chat;
    if (!chat) {
      replace(this.bar);
      replace(this.tags);
      return;
    }
    const status = chat.status || "new";
    const buttons = this.workflow.actions(chat).map((action) =>
      h(
        "button",
        {
          type: "button",
          class: `small${action === "claim" || action === "reopen" ? " primary" : " ghost"}`,
          dataset: { testid: `wf-${action}` },
          onclick: (event) => (action === "transfer" ? this.openTransfer() : this.run(action, event.currentTarget)),
        },
        t(`workflow.action.${action}`),
      ),
    );
    replace(
      this.bar,
      h("span", { class: "status-tag", dataset: { testid: "wf-status", status } }, t(`inbox.status.${status}`)),
      h(
        "span",
        { class: "assignee", dataset: { testid: "wf-assignee", userId: chat.assignee?.userId || "" } },
        chat.assignee ? t("workflow.assignee", { name: chat.assignee.name || chat.assignee.userId }) : t("workflow.nobody"),
      ),
      this.workflow.timer(chat, "wf-timer"),
      h("span", { class: "spacer" }),
      h("span", { class: "workflow-actions", role: "group", "aria-label": t("workflow.actions") }, buttons),
    );
    this.renderTags();
  }

  renderTags() {
    const tags = this.chat.tags || [];
    const input = h("input", {
      type: "text",
      maxlength: MAX_TAG,
      placeholder: t("workflow.tagPlaceholder"),
      "aria-label": t("workflow.tag"),
      dataset: { testid: "tag-input" },
      onkeydown: (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          this.addTag(input.value);
        }
      },
    });
    replace(
      this.tags,
      h("span", { class: "muted small" }, t("workflow.tags")),
      tags.map((tag) =>
        h(
          "span",
          { class: "tag-chip", dataset: { testid: "tag", tag } },
          tag,
          h("button", { type: "button", class: "link small", title: t("workflow.removeTag", { tag }), "aria-label": t("workflow.removeTag", { tag }), dataset: { testid: "tag-remove" }, onclick: () => this.setTags(tags.filter((other) => other !== tag)) }, "×"),
        ),
      ),
      tags.length < MAX_TAGS ? [input, h("button", { type: "button", class: "ghost small", dataset: { testid: "tag-add" }, onclick: () => this.addTag(input.value) }, t("workflow.addTag"))] : null,
    );
  }

  /** An action through the service; a refusal is said plainly and the chat is read again (409: someone was faster). */
  async run(action, button, body) {
    const chat = this.chat;
    if (button) button.disabled = true;
    try {
      const fresh = await this.workflow.act(chat, action, body);
      this.chatView.say(t(`workflow.done.${action}`, { name: fresh.assignee?.name || fresh.assignee?.userId || "" }), "success");
      this.app.views?.inbox.upsert(fresh);
    } catch (error) {
      await this.refused(chat, error);
    } finally {
      if (button) button.disabled = false;
    }
  }

  async refused(chat, error) {
    let fresh = null;
    if (error.status === 409 || error.status === 403 || error.status === 422) {
      try {
        fresh = await this.app.api.get(`/chats/${enc(chat.id)}`, { accountId: chat.accountId });
        this.app.views?.inbox.upsert(fresh);
      } catch {
        // the message below stands; the live updates bring the chat's state
      }
    }
    let text = t("workflow.failed", { error: error.message });
    if (error.code === "chat_taken") text = t("workflow.taken", { name: fresh?.assignee?.name || fresh?.assignee?.userId || "—" });
    else if (error.code === "chat_closed") text = t("workflow.closedMeanwhile");
    else if (error.status === 409) text = t("workflow.changedMeanwhile");
    this.chatView.say(text, "error");
  }

  async openTransfer() {
    const chat = this.chat;
    replace(this.picker, h("span", { class: "muted small" }, t("workflow.loadingUsers")));
    this.picker.hidden = false;
    let users;
    try {
      users = await this.workflow.transferTargets(chat);
    } catch (error) {
      replace(this.picker, h("span", { class: "bad small" }, t("workflow.usersFailed", { error: error.message })));
      return;
    }
    if (!users.length) {
      replace(this.picker, h("span", { class: "muted small" }, t("workflow.noTargets")));
      return;
    }
    const select = h(
      "select",
      { dataset: { testid: "transfer-user" }, "aria-label": t("workflow.transferTo") },
      users.map((user) => h("option", { value: user.id }, `${user.name || user.email} · ${t(`role.${user.role}`)}`)),
    );
    const confirm = h("button", { type: "button", class: "small primary", dataset: { testid: "transfer-confirm" } }, t("workflow.action.transfer"));
    confirm.onclick = async () => {
      await this.run("transfer", confirm, { userId: select.value });
      this.picker.hidden = true;
    };
    const cancel = h("button", { type: "button", class: "ghost small", onclick: () => { this.picker.hidden = true; } }, t("common.cancel"));
    replace(this.picker, h("label", {}, t("workflow.transferTo"), " ", select), " ", confirm, " ", cancel);
    select.focus();
  }

  addTag(value) {
    const tag = value.trim();
    if (!tag) return;
    if (tag.length > MAX_TAG) {
      this.chatView.say(t("workflow.tagTooLong", { count: MAX_TAG }), "error");
      return;
    }
    const tags = this.chat.tags || [];
    if (!tags.includes(tag)) this.setTags([...tags, tag]);
  }

  async setTags(tags) {
    const chat = this.chat;
    try {
      const fresh = await this.app.api.request("PUT", `/chats/${enc(chat.id)}/tags`, { query: { accountId: chat.accountId }, json: { tags } });
      this.app.views?.inbox.upsert(fresh);
      this.chatView.say("");
    } catch (error) {
      this.chatView.say(t("workflow.tagsNotSaved", { error: error.message }), "error");
    }
  }

  // ---------------------------------------------------------------- notes (internal: never sent to the client)
  async loadNotes() {
    const chat = this.chat;
    const generation = this.generation;
    if (!chat) return;
    try {
      const notes = await this.app.api.all(`/chats/${enc(chat.id)}/notes`, { accountId: chat.accountId });
      if (generation === this.generation) replace(this.noteList, notes.length ? notes.map((note) => noteElement(note)) : h("li", { class: "muted small" }, t("workflow.noNotes")));
    } catch (error) {
      if (generation === this.generation) replace(this.noteList, h("li", { class: "bad small" }, t("workflow.notesFailed", { error: error.message })));
    }
  }

  /** Appends a note of the open chat, once: the POST's answer and the live avito-chat-note frame both bring it. */
  showNote(note) {
    if (!note?.id || [...this.noteList.querySelectorAll("li.note")].some((li) => li.dataset.noteId === note.id)) return;
    this.noteList.querySelector("li.muted")?.remove();
    this.noteList.append(noteElement(note));
  }

  async addNote() {
    const text = this.noteInput.value.trim();
    if (!text) return;
    const chat = this.chat;
    const generation = this.generation;
    this.noteButton.disabled = true;
    try {
      const note = await this.app.api.post(`/chats/${enc(chat.id)}/notes?accountId=${enc(chat.accountId)}`, { text });
      if (generation === this.generation) {
        this.showNote(note);
        this.noteInput.value = "";
      }
    } catch (error) {
      this.chatView.say(t("workflow.noteNotSaved", { error: error.message }), "error");
    } finally {
      this.noteButton.disabled = false;
    }
  }
}

function noteElement(note) {
  return h(
    "li",
    { class: "note", dataset: { testid: "note", noteId: note.id } },
    h("div", { class: "note-meta" }, h("strong", { dataset: { testid: "note-author" } }, note.author?.name || note.author?.userId || "—"), " · ", h("time", { datetime: note.createdAt, title: fullTime(note.createdAt) }, shortTime(note.createdAt))),
    h("div", { class: "note-text", dataset: { testid: "note-text" } }, note.text),
  );
}

/** "На месте" / "Отошёл" in the top bar: GET and PUT /me/presence, so it shows what the service holds. */
export class PresenceSwitch {
  constructor(app) {
    this.app = app;
    this.status = null;
    this.element = h("button", {
      type: "button",
      class: "presence small",
      dataset: { testid: "presence", status: "unknown" },
      "aria-pressed": "false",
      title: t("workflow.presence.title"),
      onclick: () => this.toggle(),
    }, t("workflow.presence.unknown"));
  }

  async load() {
    try {
      this.paint((await this.app.api.get("/me/presence")).status);
    } catch {
      this.paint(null);
    }
  }

  paint(status) {
    this.status = status;
    this.element.dataset.status = status || "unknown";
    this.element.setAttribute("aria-pressed", String(status === "away"));
    this.element.textContent = t(`workflow.presence.${status || "unknown"}`);
  }

  async toggle() {
    const next = this.status === "away" ? "available" : "away";
    this.element.disabled = true;
    try {
      this.paint((await this.app.api.request("PUT", "/me/presence", { json: { status: next } })).status);
    } catch (error) {
      this.element.title = t("workflow.presence.failed", { error: error.message });
    } finally {
      this.element.disabled = false;
    }
  }
}

/** An account's routing and alert thresholds (GET/PUT /accounts/{id}/routing), in the accounts page, for admins. */
export class RoutingSettings {
  constructor(app) {
    this.app = app;
    this.element = h("section", { class: "routing-settings", hidden: true, dataset: { testid: "routing-settings" } });
  }

  async open(account) {
    this.account = account;
    this.element.hidden = false;
    replace(this.element, h("p", { class: "muted" }, t("workflow.routing.loading")));
    try {
      this.render(await this.app.api.get(`/accounts/${enc(account.id)}/routing`));
    } catch (error) {
      replace(this.element, h("p", { class: "bad" }, t("workflow.routing.failed", { error: error.message })));
    }
  }

  render(routing) {
    const mode = h("select", { dataset: { testid: "routing-mode" } }, MODES.map((value) => h("option", { value, selected: value === routing.mode }, t(`workflow.routing.mode.${value}`))));
    const cap = h("input", { type: "number", min: 1, max: 200, step: 1, value: routing.maxOpenPerOperator ?? "", placeholder: t("workflow.routing.noCap"), dataset: { testid: "routing-cap" } });
    const minutes = [0, 1, 2].map((index) =>
      h("input", { type: "number", min: 1, max: 1440, step: 1, value: routing.waitAlertMinutes?.[index] ?? "", class: "minutes", "aria-label": t("workflow.routing.threshold", { n: index + 1 }), dataset: { testid: `routing-threshold-${index + 1}` } }),
    );
    const result = h("div", { class: "routing-result", dataset: { testid: "routing-result" }, "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "primary", dataset: { testid: "routing-save" } }, t("workflow.routing.save"));
    const form = h(
      "form",
      {
        class: "routing-form",
        novalidate: true, // the service's 422 is the one rule; its message is shown field by field
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { mode: mode.value };
          if (cap.value.trim()) body.maxOpenPerOperator = Number(cap.value);
          const given = minutes.map((input) => input.value.trim()).filter(Boolean).map(Number);
          if (given.length) body.waitAlertMinutes = given;
          save.disabled = true;
          try {
            const saved = await this.app.api.request("PUT", `/accounts/${enc(this.account.id)}/routing`, { json: body });
            this.app.workflow.routingChanged(saved);
            this.render(saved);
            this.element.querySelector("[data-testid=routing-result]").replaceChildren(h("span", { class: "ok" }, t("workflow.routing.saved", { name: this.account.name })));
          } catch (error) {
            replace(result, h("div", { class: "bad" }, t("workflow.routing.notSaved", { error: error.message })), fieldErrors(error));
          } finally {
            save.disabled = false;
          }
        },
      },
      h("h3", {}, t("workflow.routing.title", { name: this.account.name })),
      h("p", { class: "muted small" }, t("workflow.routing.explain")),
      h("label", {}, t("workflow.routing.mode"), " ", mode),
      h("label", {}, t("workflow.routing.cap"), " ", cap),
      h("fieldset", {}, h("legend", {}, t("workflow.routing.thresholds")), minutes, h("span", { class: "muted small" }, t("workflow.routing.minutes"))),
      h("div", { class: "dialog-buttons" }, h("button", { type: "button", class: "ghost", dataset: { testid: "routing-close" }, onclick: () => { this.element.hidden = true; } }, t("health.close")), save),
      result,
    );
    replace(this.element, form);
  }
}

/** The 422's details as "field: what is wrong" lines. */
function fieldErrors(error) {
  const details = Array.isArray(error.details) ? error.details : [];
  if (!details.length) return null;
  return h(
    "ul",
    { class: "bad small", dataset: { testid: "routing-errors" } },
    details.map((detail) => {
      const field = String(detail?.field ?? (Array.isArray(detail?.loc) ? detail.loc.join(".") : detail?.loc ?? "")).replace(/^body\.?/, "");
      const label = /waitAlertMinutes/.test(field) ? t("workflow.routing.thresholds") : /maxOpen/.test(field) ? t("workflow.routing.cap") : /mode/.test(field) ? t("workflow.routing.mode") : field;
      return h("li", { dataset: { field } }, `${label}: ${detail?.message ?? detail?.msg ?? ""}`);
    }),
  );
}

export { SUPERVISORS };
