// The operator console: sign-in, navigation (#/inbox, #/accounts, #/stats, #/reviews, #/templates, #/auto-replies, #/reports, #/users), live updates, the views.

import { h, replace } from "./dom.js";
import { Api, apiBase } from "./api.js";
import { Session } from "./session.js";
import { Live } from "./live.js";
import { Chime } from "./sound.js";
import { InboxView } from "./inbox.js";
import { PresenceSwitch, Workflow } from "./workflow.js";
import { AccountsView } from "./accounts.js";
import { StatsView } from "./stats.js";
import { ReviewsView } from "./reviews.js";
import { UsersView } from "./users.js";
import { ReportsView } from "./reports.js";
import { AutoRepliesView, TemplatesView } from "./replies.js";
import { SignInView } from "./signin.js";
import { initI18n, language, setLanguage, t, DICTIONARIES } from "./i18n.js";

const VIEW_TITLES = { inbox: "nav.inbox", accounts: "nav.accounts", stats: "nav.stats", reviews: "nav.reviews", users: "nav.users", reports: "nav.reports", templates: "nav.templates", "auto-replies": "nav.autoReplies" };
const SUPERVISORS = ["admin", "director"]; // they see the users page (only admins change anything there)

class ConsoleApp {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.session = new Session();
    this.api = new Api(apiBase(window.location), this.session, () => this.views && this.signOut(t("app.sessionEnded")), () => this.renew());
    this.signInView = new SignInView(this);
    this.renewing = null;
    this.renewTimer = null;
    this.accounts = new Map();
    this.chime = new Chime();
    this.workflow = new Workflow(this); // thresholds, waiting timers and their chimes (issue 25)
    this.live = new Live(config.websocketUrl || null, () => this.session.token);
    this.views = null;
    this.unreadTotal = 0;
    this.live.addEventListener("state", () => this.renderLiveState());
    this.live.addEventListener("avito-chat-updated", (event) => this.views?.inbox.upsert(event.detail.chat));
    this.live.addEventListener("avito-new-message", (event) => this.views?.inbox.chatView.newMessage(event.detail));
    this.live.addEventListener("avito-chat-assigned", (event) => this.views?.inbox.assigned(event.detail));
    this.live.addEventListener("avito-chat-waiting", (event) => this.views && this.workflow.waiting(event.detail));
    this.live.addEventListener("avito-chat-note", (event) => this.views?.inbox.chatView.noteAdded(event.detail));
    this.live.addEventListener("avito-notification", (event) => this.notified(event.detail));
    this.live.addEventListener("avito-new-review", (event) => this.views?.reviews.newReview(event.detail));
    this.live.addEventListener("resync", () => this.resync());
    window.addEventListener("hashchange", () => this.route());
  }

  async start() {
    const error = this.session.restore(window.location, window.history);
    this.linkError = Boolean(error);
    // a stored password sign-in whose access token expired (or is about to) is renewed before the page opens
    if (this.session.canRefresh && this.session.expired(5000)) await this.renew();
    if (this.session.signedIn) this.enter();
    else {
      this.session.signOut();
      this.renderSignIn(error);
    }
  }

  // ---------------------------------------------------------------- language
  /** RU | EN: the chosen language is remembered in this browser; the page is drawn again in it. */
  languageSwitch() {
    const choose = (code) => () => {
      if (code === language()) return;
      setLanguage(code);
      if (this.views) this.enter();
      else this.signInView.redraw();
    };
    return h(
      "span",
      { class: "language", role: "group", "aria-label": t("app.language"), dataset: { testid: "language", language: language() } },
      Object.keys(DICTIONARIES).map((code) =>
        h(
          "button",
          {
            type: "button",
            class: "ghost small",
            lang: code,
            title: t(`lang.${code}.name`),
            "aria-pressed": String(code === language()),
            dataset: { testid: `language-${code}` },
            onclick: choose(code),
          },
          t(`lang.${code}`),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- sign-in, renewal, sign-out
  renderSignIn(message) {
    this.live.stop();
    clearTimeout(this.renewTimer);
    this.signInView.render(message, { tokenOpen: this.linkError }); // a bad #token= link: its form is open
    this.linkError = false;
  }

  /** The answer of /auth/login or /auth/new-password: tokens and the user. */
  signedIn(answer) {
    try {
      this.session.signedInWith(answer);
    } catch (failure) {
      this.signInView.render(failure.message);
      return;
    }
    this.enter();
  }

  /**
   * A new access token from the refresh token, shortly before the old one expires (and when a call is refused
   * with 401). Concurrent callers share one request. Resolves to whether the session was renewed.
   */
  renew() {
    if (!this.session.canRefresh) return Promise.resolve(false);
    if (!this.renewing) {
      const refreshToken = this.session.refreshToken;
      this.renewing = this.api
        .request("POST", "/auth/refresh", { json: { refreshToken }, anonymous: true })
        .then((answer) => {
          if (this.session.refreshToken !== refreshToken) return false; // signed out meanwhile
          this.session.refreshed(answer);
          this.scheduleRenewal();
          return true;
        })
        .catch(() => false)
        .finally(() => {
          this.renewing = null;
        });
    }
    return this.renewing;
  }

  /** Renews the access token a minute before it expires (half its lifetime when that is shorter). */
  scheduleRenewal() {
    clearTimeout(this.renewTimer);
    const expiresAt = this.session.expiresAt;
    if (!this.session.canRefresh || expiresAt === null) return;
    const issuedAt = typeof this.session.claims?.iat === "number" ? this.session.claims.iat * 1000 : Date.now();
    const margin = Math.min(60_000, Math.max(0, expiresAt - issuedAt) / 2);
    this.renewTimer = setTimeout(async () => {
      if (this.views && !(await this.renew())) this.signOut(t("app.sessionEnded"));
    }, Math.max(1000, expiresAt - margin - Date.now()));
  }

  /** Signs out here, and at the service too for a password sign-in (its refresh tokens are revoked). */
  async signOut(message) {
    const wasPassword = this.session.canRefresh && this.session.signedIn;
    this.views = null;
    clearTimeout(this.renewTimer);
    this.live.stop();
    if (wasPassword && !message) {
      try {
        await this.api.request("POST", "/auth/logout", { anonymous: false, retried: true });
      } catch {
        // the session ends here anyway; an unreachable service forgets the tokens when they expire
      }
    }
    this.session.signOut();
    this.accounts.clear();
    this.setUnreadTotal(0);
    this.renderSignIn(message);
  }

  /** The signed-in user from GET /me (name, role, assigned accounts); the shell is drawn again if the role differs. */
  async loadMe() {
    let me;
    try {
      me = await this.api.get("/me");
    } catch {
      return; // a service without /me, or a network failure: the token's own claims stand
    }
    if (!this.views || !me) return;
    const role = this.session.role;
    this.session.setUser({ ...(this.session.user || {}), ...me });
    if (this.session.role !== role) this.enter();
    else this.renderWho();
  }

  // ---------------------------------------------------------------- the signed-in shell
  enter() {
    const filters = this.views?.inbox.filters; // drawn again in another language: the inbox keeps its filters
    const nav = (id, hash, label) => h("a", { href: hash, dataset: { testid: id, view: hash.slice(2) } }, label);
    this.liveBadge = h("span", { class: "live-state", dataset: { testid: "live-state" } });
    this.muteButton = h("button", { type: "button", class: "ghost small", dataset: { testid: "mute" }, onclick: () => this.toggleMute() });
    this.presence = new PresenceSwitch(this);
    const supervisor = SUPERVISORS.includes(this.session.role);
    this.navLinks = [nav("nav-inbox", "#/inbox", t("nav.inbox")), nav("nav-accounts", "#/accounts", t("nav.accounts")), nav("nav-stats", "#/stats", t("nav.stats")), nav("nav-reviews", "#/reviews", t("nav.reviews")), nav("nav-templates", "#/templates", t("nav.templates")), nav("nav-auto-replies", "#/auto-replies", t("nav.autoReplies"))];
    if (supervisor) this.navLinks.push(nav("nav-reports", "#/reports", t("nav.reports")), nav("nav-users", "#/users", t("nav.users")));
    this.main = h("main", { class: "content" });
    replace(
      this.root,
      h(
        "header",
        { class: "topbar" },
        h("span", { class: "brand" }, t("app.name")),
        h("nav", {}, this.navLinks),
        h("span", { class: "spacer" }),
        this.presence.element,
        this.liveBadge,
        this.muteButton,
        this.languageSwitch(),
        this.who = h("span", { class: "who", dataset: { testid: "who" } }),
        h("button", { type: "button", class: "ghost small", dataset: { testid: "sign-out" }, onclick: () => this.signOut() }, t("app.signOut")),
      ),
      this.main,
    );
    this.views = { inbox: new InboxView(this, filters), accounts: new AccountsView(this), stats: new StatsView(this), reviews: new ReviewsView(this), templates: new TemplatesView(this), "auto-replies": new AutoRepliesView(this) };
    if (supervisor) Object.assign(this.views, { users: new UsersView(this), reports: new ReportsView(this) });
    this.renderWho();
    this.scheduleRenewal();
    if (!filters) this.loadMe(); // once per sign-in, not on a change of language
    this.renderLiveState();
    this.renderMute();
    this.presence.load();
    this.workflow.start();
    this.live.start();
    this.loadAccounts()
      .then(() => {
        this.views?.inbox.renderAccountFilter();
        this.views?.inbox.render();
      })
      .catch((error) => this.views?.inbox && (this.views.inbox.status.textContent = t("app.accountsFailed", { error: error.message })));
    this.views.inbox.load();
    this.route();
  }

  async loadAccounts() {
    const accounts = await this.api.all("/accounts");
    this.accounts.clear();
    for (const account of accounts) this.accounts.set(account.id, account);
  }

  route() {
    if (!this.views) return;
    const [view = "inbox", ...rest] = window.location.hash.replace(/^#\/?/, "").split("/").map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return "";
      }
    });
    const name = this.views[view] ? view : "inbox";
    for (const link of this.navLinks) link.classList.toggle("active", link.dataset.view === name);
    const target = this.views[name];
    if (this.main.firstChild !== target.element) replace(this.main, target.element);
    this.titleBase = t("app.pageTitle", { view: t(VIEW_TITLES[name]), app: t("app.name") });
    this.setUnreadTotal(this.unreadTotal);
    target.show(...rest)?.catch?.((error) => console.error(error));
  }

  navigate(hash) {
    if (window.location.hash === hash) this.route();
    else window.location.hash = hash;
  }

  renderWho() {
    if (!this.who) return;
    this.who.dataset.role = this.session.role;
    this.who.textContent = `${this.session.displayName || t("app.signedIn")} · ${roleName(this.session.role)}`;
  }

  // ---------------------------------------------------------------- live
  renderLiveState() {
    if (!this.liveBadge) return;
    this.liveBadge.textContent = t(`live.${this.live.state}`);
    this.liveBadge.dataset.state = this.live.state;
  }

  notified(data) {
    if (data.type !== "new_message") return;
    this.chime.play();
    this.muteButton.dataset.chimes = String(this.chime.played);
  }

  resync() {
    this.views?.inbox.load();
  }

  toggleMute() {
    this.chime.setMuted(!this.chime.muted);
    this.renderMute();
  }

  renderMute() {
    this.muteButton.textContent = this.chime.muted ? t("sound.off") : t("sound.on");
    this.muteButton.dataset.muted = String(this.chime.muted);
    this.muteButton.dataset.chimes = String(this.chime.played);
    this.muteButton.setAttribute("aria-pressed", String(this.chime.muted));
  }

  setUnreadTotal(total) {
    this.unreadTotal = total;
    document.title = `${total ? `(${total}) ` : ""}${this.titleBase || t("app.name")}`;
  }
}

async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // offline or not served: the console works without live updates
  }
  return { websocketUrl: null };
}

/** A role's name in the language ("оператор"); a role the console does not know is shown as it is. */
function roleName(role) {
  return ["admin", "director", "operator"].includes(role) ? t(`role.${role}`) : role;
}

initI18n();
loadConfig().then((config) => new ConsoleApp(document.getElementById("app"), config).start());
