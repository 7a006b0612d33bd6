// Answering faster (issue 26): quick replies behind "/" in the composer, the search box above the inbox with
// highlighted snippets, and the client card beside the chat (phones with a copy button, the item, the client's
// other chats, their calls with a play button).

import { h, replace, safeUrl } from "./dom.js";
import { enc } from "./api.js";
import { fullTime, shortTime, t } from "./i18n.js";
import { playRecording } from "./recordings.js";

const fold = (text) => String(text || "").toLowerCase().replaceAll("\u0451", "\u0435"); // ё as е, like the search

// ------------------------------------------------------------------------------------------ quick replies

/** "/" at the start of the composer (or after a space) opens the quick replies; typing filters them. */
export class QuickReplies {
  constructor(app, chatView) {
    this.app = app;
    this.chatView = chatView;
    this.templates = null;
    this.shown = [];
    this.active = 0;
    this.element = h("ul", { class: "quick-replies", hidden: true, role: "listbox", dataset: { testid: "quick-replies" } });
  }

  /** The "/word" being typed before the caret, or null. */
  query() {
    const input = this.chatView.input;
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const match = /(?:^|\s)\/([^\s/]*)$/.exec(before);
    return match ? { text: match[1], start: before.length - match[1].length - 1 } : null;
  }

  async changed() {
    const query = this.query();
    if (!query) return this.close();
    if (this.templates === null) {
      this.templates = [];
      try {
        this.templates = await this.app.api.all("/templates");
      } catch (error) {
        this.chatView.say(t("quick.loadFailed", { error: error.message }), "error");
      }
    }
    const words = fold(query.text);
    this.shown = this.templates.filter((tpl) => !words || fold(tpl.title).includes(words) || fold(tpl.text).includes(words)).slice(0, 8);
    this.active = 0;
    this.render();
  }

  render() {
    if (!this.query()) return this.close();
    this.element.hidden = false;
    if (!this.shown.length) {
      replace(this.element, h("li", { class: "muted small" }, t("quick.none")));
      return;
    }
    replace(
      this.element,
      this.shown.map((tpl, index) =>
        h(
          "li",
          {
            role: "option",
            class: index === this.active ? "active" : "",
            dataset: { testid: "quick-reply", templateId: tpl.id },
            onmousedown: (event) => {
              event.preventDefault();
              this.pick(tpl);
            },
          },
          h("strong", {}, tpl.title),
          h("span", { class: "muted small" }, tpl.text),
        ),
      ),
    );
  }

  close() {
    this.element.hidden = true;
    this.shown = [];
  }

  /** Arrow keys, Enter/Tab and Escape while the list is open; true when the key was ours. */
  keydown(event) {
    if (this.element.hidden || !this.shown.length) {
      if (!this.element.hidden && event.key === "Escape") this.close();
      return false;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : this.shown.length - 1)) % this.shown.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.pick(this.shown[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  /** The template filled in for this chat by the service, put in place of the "/word". */
  async pick(tpl) {
    const query = this.query();
    const open = this.chatView.open;
    this.close();
    if (!query || !open) return;
    try {
      const rendered = await this.app.api.request("POST", `/templates/${enc(tpl.id)}/render`, {
        query: { accountId: open.accountId, chatId: open.chatId },
      });
      const input = this.chatView.input;
      const end = query.start + query.text.length + 1;
      input.value = input.value.slice(0, query.start) + rendered.text + input.value.slice(end);
      input.selectionStart = input.selectionEnd = query.start + rendered.text.length;
      this.chatView.updateCounter();
      input.focus();
    } catch (error) {
      this.chatView.say(t("quick.renderFailed", { error: error.message }), "error");
    }
  }
}

// ------------------------------------------------------------------------------------------ search

/** The words of `query` marked in `text` (whole words and prefixes, case and ё folded). */
export function highlighted(text, query) {
  const words = fold(query).split(/[^\p{L}\p{N}+]+/u).filter((word) => word.length > 0);
  const source = String(text || "");
  const folded = fold(source);
  const parts = [];
  let at = 0;
  const pattern = /[\p{L}\p{N}]+/gu;
  for (let match = pattern.exec(folded); match; match = pattern.exec(folded)) {
    if (!words.some((word) => match[0].startsWith(word))) continue;
    if (match.index > at) parts.push(source.slice(at, match.index));
    parts.push(h("mark", {}, source.slice(match.index, match.index + match[0].length)));
    at = match.index + match[0].length;
  }
  if (at < source.length) parts.push(source.slice(at));
  return parts;
}

export class SearchBox {
  constructor(app) {
    this.app = app;
    this.timer = null;
    this.generation = 0;
    this.input = h("input", {
      type: "search",
      placeholder: t("search.placeholder"),
      "aria-label": t("search.label"),
      dataset: { testid: "search-input" },
      oninput: () => this.schedule(),
      onkeydown: (event) => {
        if (event.key === "Escape") this.clear();
      },
    });
    this.results = h("ul", { class: "chat-list search-results", hidden: true, dataset: { testid: "search-results" } });
    this.status = h("div", { class: "muted small list-status", dataset: { testid: "search-status" } });
    this.element = h("div", { class: "search-box" }, this.input);
  }

  get active() {
    return this.input.value.trim().length >= 2;
  }

  clear() {
    this.input.value = "";
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 250);
  }

  async run() {
    const q = this.input.value.trim();
    const generation = ++this.generation;
    this.onchange?.(this.active);
    if (q.length < 2) {
      this.results.hidden = true;
      this.status.textContent = "";
      return;
    }
    this.status.textContent = t("search.searching");
    try {
      const found = await this.app.api.get("/search", { q: q.slice(0, 100), limit: 50 });
      if (generation !== this.generation) return;
      this.status.textContent = found.length ? "" : t("search.nothing");
      replace(this.results, found.map((hit) => this.hitElement(hit, q)));
      this.results.hidden = false;
    } catch (error) {
      if (generation === this.generation) this.status.textContent = t("search.failed", { error: error.message });
    }
  }

  hitElement(hit, q) {
    const account = this.app.accounts.get(hit.accountId);
    return h(
      "li",
      { class: "chat-item", dataset: { testid: "search-hit", chatId: hit.chatId, accountId: hit.accountId, matched: hit.matched } },
      h(
        "a",
        { href: `#/inbox/${enc(hit.accountId)}/${enc(hit.chatId)}` },
        h(
          "div",
          { class: "chat-main" },
          h("span", { class: "row" }, h("strong", { class: "client" }, hit.clientName || t("chat.avitoUser")), h("time", { datetime: hit.at, title: fullTime(hit.at) }, shortTime(hit.at))),
          h("span", { class: "row" }, h("span", { class: "item-title" }, hit.itemTitle || ""), account ? h("span", { class: "account-tag" }, account.name) : null),
          h("span", { class: "snippet", dataset: { testid: "search-snippet" } }, h("span", { class: "muted small" }, `${t(`search.matched.${hit.matched}`)}: `), highlighted(hit.snippet, q)),
        ),
      ),
    );
  }
}

// ------------------------------------------------------------------------------------------ client card

export class ClientCard {
  constructor(app) {
    this.app = app;
    this.generation = 0;
    this.open = null;
    this.player = h("audio", { controls: true, hidden: true, dataset: { testid: "card-player" } });
    this.body = h("div", { class: "card-body" });
    this.element = h("aside", { class: "client-card", dataset: { testid: "client-card" } }, h("h3", {}, t("card.title")), this.body, this.player);
  }

  async show(open) {
    this.open = open;
    const generation = ++this.generation;
    replace(this.body, h("p", { class: "muted small" }, t("card.loading")));
    if (!open) return;
    try {
      const card = await this.app.api.get(`/chats/${enc(open.chatId)}/client`, { accountId: open.accountId });
      if (generation === this.generation) this.render(card);
    } catch (error) {
      if (generation === this.generation) replace(this.body, h("p", { class: "muted small" }, t("card.failed", { error: error.message })));
    }
  }

  render(card) {
    const item = card.item;
    const itemUrl = safeUrl(item?.url);
    replace(
      this.body,
      h("p", {}, h("strong", {}, card.clientName || t("chat.avitoUser"))),
      h("h4", {}, t("card.phones")),
      card.phones.length
        ? h("ul", { class: "plain" }, card.phones.map((phone, index) => this.phoneElement(phone, card.phoneSources?.[index])))
        : h("p", { class: "muted small" }, t("card.noPhones")),
      item
        ? [
            h("h4", {}, t("card.item")),
            h(
              "p",
              { dataset: { testid: "card-item" } },
              itemUrl ? h("a", { href: itemUrl, target: "_blank", rel: "noopener noreferrer" }, item.title || t("chat.item")) : item.title || "",
              item.price ? h("br") : null,
              item.price || "",
              item.city ? h("br") : null,
              item.city ? h("span", { class: "muted small" }, item.city) : null,
            ),
          ]
        : null,
      card.otherChats.length
        ? [
            h("h4", {}, t("card.otherChats")),
            h(
              "ul",
              { class: "plain" },
              card.otherChats.map((other) =>
                h(
                  "li",
                  { dataset: { testid: "card-other-chat" } },
                  h("a", { href: `#/inbox/${enc(other.accountId)}/${enc(other.chatId)}` }, other.itemTitle || t("chat.item")),
                  " ",
                  h("span", { class: "muted small" }, this.app.accounts.get(other.accountId)?.name || ""),
                ),
              ),
            ),
          ]
        : null,
      card.calls?.length
        ? [
            h("h4", {}, t("card.calls")),
            h("ul", { class: "plain" }, card.calls.map((call) => this.callElement(call))),
          ]
        : null,
    );
  }

  phoneElement(phone, source) {
    const copy = h("button", { type: "button", class: "ghost small", title: t("card.copyTitle"), dataset: { testid: "card-copy" } }, t("card.copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(phone);
        copy.textContent = t("card.copied");
      } catch {
        copy.textContent = t("card.copyFailed");
      }
    });
    // a number Avito CPA found in one of this chat's messages (not written in it as we can read it)
    const fromAvito = source === "cpa" ? h("span", { class: "muted small", title: t("card.fromAvitoTitle"), dataset: { testid: "card-phone-cpa" } }, t("card.fromAvito")) : null;
    return h("li", { class: "row" }, h("span", {}, h("a", { href: `tel:${phone}`, dataset: { testid: "card-phone" } }, phone), fromAvito ? [h("br"), fromAvito] : null), copy);
  }

  callElement(call) {
    const play = h("button", { type: "button", class: "ghost small", dataset: { testid: "card-call-play" } }, `▶ ${t("calls.play")}`);
    play.addEventListener("click", () => this.play(call, play));
    const account = this.app.accounts.get(call.accountId);
    return h(
      "li",
      { class: "row", dataset: { testid: "card-call", callId: call.id } },
      h("span", {}, h("time", { datetime: call.callTime, title: fullTime(call.callTime) }, shortTime(call.callTime)), " ", h("span", { class: "muted small" }, t("card.callLength", { seconds: call.talkDuration }), account ? ` · ${account.name}` : "")),
      play,
    );
  }

  async play(call, button) {
    const error = await playRecording(this.app.api, this.player, { accountId: call.accountId, callId: call.id, button });
    if (error) button.title = error.code === "recording_not_found" ? t("calls.notReady") : error.message;
  }
}
