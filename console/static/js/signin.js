// The sign-in page: e-mail and password (POST /auth/login), the new-password step at the first sign-in
// (NEW_PASSWORD_REQUIRED -> POST /auth/new-password), and, folded away, a pasted JWT (the call centre's own
// HS256 tokens; the #token= link signs in without this page).

import { h, replace } from "./dom.js";
import { t } from "./i18n.js";

export class SignInView {
  /** @param app the console: api, session, languageSwitch(), enter() */
  constructor(app) {
    this.app = app;
  }

  errorLine(message) {
    return h("p", { class: "notice error", role: "alert", hidden: !message, dataset: { testid: "sign-in-error" } }, message || "");
  }

  /** The sentence for a failed sign-in call: the service's field message for the new password, else the error's. */
  static reason(error) {
    if (error.code === "validation_error" && (error.details || []).some((detail) => /newPassword/.test(String(detail?.field ?? detail?.loc ?? "")))) {
      return t("signIn.passwordPolicy");
    }
    return error.code === "too_many_requests" ? t("signIn.tooMany") : error.message;
  }

  card(...children) {
    return h("main", { class: "center" }, h("div", { class: "sign-in", dataset: { testid: "sign-in" } }, ...children));
  }

  /** The first page: e-mail and password; the token form under "Sign in with a token". */
  render(message, { email = "", tokenOpen = false } = {}) {
    document.title = t("app.name");
    const error = this.errorLine(message);
    const fail = (text) => {
      error.hidden = false;
      error.textContent = text;
    };
    const emailInput = h("input", { type: "email", required: true, autocomplete: "username", value: email, dataset: { testid: "email-input" } });
    const password = h("input", { type: "password", required: true, autocomplete: "current-password", dataset: { testid: "password-input" } });
    const submit = h("button", { type: "submit", class: "primary", dataset: { testid: "login-submit" } }, t("signIn.submit"));
    const login = h(
      "form",
      {
        class: "sign-in-form",
        dataset: { testid: "login-form" },
        onsubmit: async (event) => {
          event.preventDefault();
          submit.disabled = true;
          try {
            const answer = await this.app.api.request("POST", "/auth/login", { json: { email: emailInput.value.trim(), password: password.value }, anonymous: true });
            if (answer?.challenge === "NEW_PASSWORD_REQUIRED") this.renderNewPassword(emailInput.value.trim(), answer.session);
            else this.app.signedIn(answer);
          } catch (failure) {
            fail(SignInView.reason(failure));
            password.value = "";
            password.focus();
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("label", {}, t("signIn.email"), emailInput),
      h("label", {}, t("signIn.password"), password),
      submit,
    );
    const token = h("textarea", { rows: 4, placeholder: "eyJhbGciOiJIUzI1NiIs…", dataset: { testid: "token-input" }, "aria-label": t("signIn.token"), spellcheck: "false", autocomplete: "off" });
    const tokenForm = h(
      "form",
      {
        class: "sign-in-form",
        dataset: { testid: "token-form" },
        onsubmit: (event) => {
          event.preventDefault();
          try {
            this.app.session.signIn(token.value);
          } catch (failure) {
            fail(failure.message);
            return;
          }
          this.app.enter();
        },
      },
      h("p", { class: "muted small" }, t("signIn.tokenHelp")),
      token,
      h("button", { type: "submit", class: "ghost", dataset: { testid: "sign-in-submit" } }, t("signIn.tokenSubmit")),
    );
    const folded = h("details", { class: "token-sign-in", open: tokenOpen, dataset: { testid: "token-sign-in" } }, h("summary", { dataset: { testid: "token-toggle" } }, t("signIn.withToken")), tokenForm);
    replace(
      this.app.root,
      this.card(h("div", { class: "sign-in-head" }, h("h1", {}, t("signIn.title")), this.app.languageSwitch()), error, login, folded),
    );
    this.redraw = () => this.render("", { email: emailInput.value, tokenOpen: folded.open });
    (email ? password : emailInput).focus();
  }

  /** The first sign-in: the user chooses their own password (twice), then is signed in. */
  renderNewPassword(email, session) {
    const error = this.errorLine("");
    const first = h("input", { type: "password", required: true, autocomplete: "new-password", dataset: { testid: "new-password-input" } });
    const again = h("input", { type: "password", required: true, autocomplete: "new-password", dataset: { testid: "new-password-repeat" } });
    const submit = h("button", { type: "submit", class: "primary", dataset: { testid: "new-password-submit" } }, t("signIn.newPasswordSubmit"));
    const form = h(
      "form",
      {
        class: "sign-in-form",
        dataset: { testid: "new-password-form" },
        onsubmit: async (event) => {
          event.preventDefault();
          if (first.value !== again.value) {
            error.hidden = false;
            error.textContent = t("signIn.passwordsDiffer");
            return;
          }
          submit.disabled = true;
          try {
            const answer = await this.app.api.request("POST", "/auth/new-password", { json: { email, session, newPassword: first.value }, anonymous: true });
            this.app.signedIn(answer);
          } catch (failure) {
            if (failure.code === "invalid_session") {
              this.render(t("signIn.sessionExpired"), { email });
              return;
            }
            error.hidden = false;
            error.textContent = SignInView.reason(failure);
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("label", {}, t("signIn.newPassword"), first),
      h("label", {}, t("signIn.repeatPassword"), again),
      submit,
      h("button", { type: "button", class: "link small", onclick: () => this.render("", { email }) }, t("signIn.back")),
    );
    replace(
      this.app.root,
      this.card(
        h("div", { class: "sign-in-head" }, h("h1", {}, t("signIn.newPasswordTitle")), this.app.languageSwitch()),
        h("p", { class: "muted" }, t("signIn.newPasswordHelp", { email })),
        error,
        form,
      ),
    );
    this.redraw = () => this.renderNewPassword(email, session);
    first.focus();
  }
}
