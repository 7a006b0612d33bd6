// "Отзывы": one account's rating, its reviews (unanswered first) with an answer box each, and its calls with a
// play button (GET /accounts/{id}/rating, /reviews, POST|DELETE /reviews/{reviewId}/answer, /calls,
// /calls/{callId}/record). A new review announced live (avito-new-review) appears at once.
//
// Its texts are in the console's dictionaries (i18n/ru.js, en.js) under reviews.* and calls.*.

import { h, replace } from "./dom.js";
import { fullTime, t } from "./i18n.js";
import { enc } from "./api.js";
import { playRecording } from "./recordings.js";

/** Unanswered reviews Avito accepts an answer to first, then the rest; newest first within each. */
export function unansweredFirst(reviews) {
  const waiting = (review) => (!review.answer && review.canAnswer ? 0 : 1);
  return [...reviews].sort((a, b) => waiting(a) - waiting(b) || String(b.createdAt).localeCompare(String(a.createdAt)));
}

export class ReviewsView {
  constructor(app) {
    this.app = app;
    this.accountId = "";
    this.reviews = [];
    this.cursor = null;
    this.account = h("select", { dataset: { testid: "reviews-account" }, "aria-label": t("reviews.account"), onchange: () => this.app.navigate(`#/reviews/${enc(this.account.value)}`) });
    this.rating = h("span", { class: "muted", dataset: { testid: "reviews-rating" } });
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "reviews-notice" } });
    this.list = h("div", { class: "reviews", dataset: { testid: "reviews-list" } });
    this.more = h("button", { type: "button", class: "ghost", hidden: true, dataset: { testid: "reviews-more" }, onclick: () => this.load(this.cursor) }, t("reviews.more"));
    this.calls = h("div", { class: "table-wrap", dataset: { testid: "calls" } });
    this.player = h("audio", { controls: true, hidden: true, dataset: { testid: "call-player" } });
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, t("reviews.title")), h("div", { class: "toolbar" }, this.account, this.rating)),
      this.notice,
      this.list,
      this.more,
      h("h2", {}, t("calls.title")),
      this.player,
      this.calls,
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
    this.say("");
    if (!this.accountId) return;
    await Promise.all([this.loadRating(), this.load(null), this.loadCalls()]);
  }

  async loadRating() {
    try {
      const rating = await this.app.api.get(`/accounts/${enc(this.accountId)}/rating`);
      this.rating.textContent = rating.isEnabled ? t("reviews.rating", { score: rating.score, count: rating.reviewsCount }) : t("reviews.ratingOff");
    } catch (error) {
      this.rating.textContent = "";
      this.say(t("reviews.failed", { error: error.message }), "error");
    }
  }

  async load(cursor) {
    const accountId = this.accountId;
    if (!cursor) replace(this.list, h("p", { class: "muted" }, t("reviews.loading")));
    try {
      const page = await this.app.api.page(`/accounts/${enc(accountId)}/reviews`, { limit: 50, cursor });
      if (accountId !== this.accountId) return;
      this.reviews = cursor ? [...this.reviews, ...page.items] : page.items;
      this.cursor = page.nextCursor;
      this.render();
    } catch (error) {
      replace(this.list);
      this.say(t("reviews.failed", { error: error.message }), "error");
    }
  }

  render() {
    this.more.hidden = !this.cursor;
    if (!this.reviews.length) return replace(this.list, h("p", { class: "muted", dataset: { testid: "reviews-empty" } }, t("reviews.empty")));
    replace(this.list, unansweredFirst(this.reviews).map((review) => this.card(review)));
  }

  card(review) {
    const waiting = !review.answer && review.canAnswer;
    const stars = "★".repeat(Math.max(0, Math.min(5, review.score))) + "☆".repeat(Math.max(0, 5 - review.score));
    const box = h("textarea", { rows: 2, maxlength: 1000, placeholder: t("reviews.answerPlaceholder"), dataset: { testid: "answer-text" } });
    const send = h("button", { type: "button", class: "primary small", dataset: { testid: "answer-send" } }, t("reviews.answerSend"));
    send.addEventListener("click", () => this.answer(review, box, send));
    let answer = null;
    if (review.answer) {
      const remove = h("button", { type: "button", class: "ghost small", dataset: { testid: "answer-delete" } }, t("reviews.answerDelete"));
      remove.addEventListener("click", () => this.removeAnswer(review, remove));
      answer = h(
        "div",
        { class: "review-answer", dataset: { testid: "review-answer", status: review.answer.status } },
        h("p", {}, review.answer.text),
        h("span", { class: "status" }, t(`reviews.status.${review.answer.status}`)),
        " ",
        remove,
      );
    }
    return h(
      "article",
      { class: `review${waiting ? " waiting" : ""}`, dataset: { testid: "review", reviewId: review.id, waiting: String(waiting) } },
      h(
        "div",
        { class: "review-head" },
        h("span", { class: "stars", title: t("reviews.score", { score: review.score }) }, stars),
        h("strong", {}, review.senderName || t("reviews.anonymous")),
        review.itemTitle ? h("span", { class: "muted" }, review.itemTitle) : null,
        h("span", { class: "muted" }, fullTime(review.createdAt)),
        h("span", { class: `status ${waiting ? "warn" : "ok"}` }, waiting ? t("reviews.unanswered") : t("reviews.answered")),
      ),
      h("p", { class: "review-text" }, review.text),
      answer,
      waiting ? h("div", { class: "answer-box" }, box, send) : null,
      !review.answer && !review.canAnswer ? h("p", { class: "muted" }, t("reviews.cannotAnswer")) : null,
    );
  }

  async answer(review, box, button) {
    const text = box.value.trim();
    if (!text) return this.say(t("reviews.answerEmpty"), "error");
    button.disabled = true;
    try {
      const answer = await this.app.api.post(`/accounts/${enc(this.accountId)}/reviews/${enc(review.id)}/answer`, { text });
      Object.assign(review, { answer, canAnswer: false });
      this.say(t("reviews.answerSent"), "success");
      this.render();
    } catch (error) {
      button.disabled = false;
      this.say(error.message, "error");
    }
  }

  async removeAnswer(review, button) {
    button.disabled = true;
    try {
      await this.app.api.request("DELETE", `/accounts/${enc(this.accountId)}/reviews/${enc(review.id)}/answer`);
      Object.assign(review, { answer: null, canAnswer: true });
      this.say(t("reviews.answerDeleted"), "success");
      this.render();
    } catch (error) {
      button.disabled = false;
      this.say(error.message, "error");
    }
  }

  /** A review the daily sync found (live frame avito-new-review). */
  newReview(data) {
    if (!data?.review || data.accountId !== this.accountId || this.reviews.some((r) => r.id === data.review.id)) return;
    this.reviews = [data.review, ...this.reviews];
    this.say(t("reviews.new", { text: data.review.text.slice(0, 80) }));
    this.render();
  }

  // ---------------------------------------------------------------- calls
  async loadCalls() {
    const accountId = this.accountId;
    try {
      const calls = await this.app.api.get(`/accounts/${enc(accountId)}/calls`, { limit: 100 });
      if (accountId !== this.accountId) return;
      if (!calls.length) return replace(this.calls, h("p", { class: "muted", dataset: { testid: "calls-empty" } }, t("calls.empty")));
      const rows = [...calls].reverse().map((call) => {
        const play = h("button", { type: "button", class: "ghost small", dataset: { testid: "call-play" } }, `▶ ${t("calls.play")}`);
        play.addEventListener("click", () => this.play(call, play));
        return h(
          "tr",
          { dataset: { testid: "call-row", callId: call.id } },
          h("td", {}, fullTime(call.callTime)),
          h("td", {}, call.callerPhone),
          h("td", {}, t("calls.seconds", { count: call.talkDuration })),
          h("td", {}, play),
        );
      });
      const head = h("tr", {}, h("th", {}, t("calls.time")), h("th", {}, t("calls.caller")), h("th", {}, t("calls.duration")), h("th", {}));
      replace(this.calls, h("table", { class: "table compact" }, h("thead", {}, head), h("tbody", {}, rows)));
    } catch (error) {
      replace(this.calls, h("p", { class: "muted", dataset: { testid: "calls-unavailable" } }, t("calls.failed", { error: error.message })));
    }
  }

  /** The call's recording in the view's player (recordings.js); what went wrong said in the view. */
  async play(call, button) {
    const error = await playRecording(this.app.api, this.player, { accountId: this.accountId, callId: call.id, button });
    if (error) this.say(error.code === "recording_not_found" ? t("calls.notReady") : error.message, error.code === "recording_not_found" ? "info" : "error");
  }
}
