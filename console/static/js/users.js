// Users (admins; directors read): who may sign in, their role, the accounts an operator works on, enabled or not
// (GET/POST/PUT /api/v1/users). Inviting gives a first password, shown once, that the user changes at the first
// sign-in. The service checks every change (roles, the last-admin rule); the page only offers them to admins.

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { shortTime, fullTime, t } from "./i18n.js";

const ROLES = ["operator", "director", "admin"];

export class UsersView {
  constructor(app) {
    this.app = app;
    this.users = new Map();
    this.body = h("tbody");
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "users-notice" } });
    this.inviteSlot = h("div");
    this.inviteButton = h("button", { type: "button", class: "primary", dataset: { testid: "invite" }, onclick: () => this.toggleInvite() }, t("users.invite"));
    this.element = h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, t("users.title")), h("div", { class: "toolbar" }, this.inviteButton)),
      this.notice,
      this.inviteSlot,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", dataset: { testid: "users-table" } },
          h("thead", {}, h("tr", {}, ["user", "role", "accounts", "enabled", "lastSeen"].map((column) => h("th", {}, t(`users.col.${column}`))))),
          this.body,
        ),
      ),
    );
  }

  get canEdit() {
    return this.app.session.isAdmin;
  }

  say(text, kind = "info") {
    this.notice.hidden = !text;
    this.notice.className = `notice ${kind}`;
    this.notice.textContent = text || "";
  }

  async show() {
    this.inviteButton.hidden = !this.canEdit;
    this.inviteButton.disabled = true; // the invite form lists the accounts: offered once they are here
    try {
      if (!this.app.accounts.size) await this.app.loadAccounts();
      const users = await this.app.api.all("/users");
      this.users = new Map(users.map((user) => [user.id, user]));
      this.render();
      this.inviteButton.disabled = false;
    } catch (error) {
      this.say(t("users.loadFailed", { error: error.message }), "error");
    }
  }

  render() {
    const users = [...this.users.values()];
    replace(this.body, users.length ? users.map((user) => this.row(user)) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("users.none"))));
  }

  /** Checkboxes for the accounts; `onChange(ids)` after each click. */
  accountChoice(selected, testid, onChange) {
    const boxes = [...this.app.accounts.values()].map((account) =>
      h("input", { type: "checkbox", value: account.id, checked: selected.includes(account.id), disabled: !this.canEdit && testid !== "invite-accounts" }),
    );
    const chosen = () => boxes.filter((box) => box.checked).map((box) => box.value);
    for (const box of boxes) box.onchange = () => onChange?.(chosen(), box);
    const list = h(
      "div",
      { class: "account-choice", dataset: { testid } },
      boxes.map((box) => h("label", { class: "check" }, box, " ", this.app.accounts.get(box.value)?.name || box.value)),
    );
    return { element: list, chosen };
  }

  row(user) {
    const limited = user.role === "operator";
    const role = h(
      "select",
      { dataset: { testid: "user-role" }, disabled: !this.canEdit, "aria-label": t("users.col.role") },
      ROLES.map((value) => h("option", { value, selected: value === user.role }, t(`role.${value}`))),
    );
    role.onchange = () => this.update(user, { role: role.value });
    let accounts = h("span", { class: "muted small" }, t("users.allAccounts"));
    if (limited) {
      const summary = h("summary", { dataset: { testid: "user-accounts-count" } }, t("users.accountCount", { count: user.accountIds.length }));
      const choice = this.accountChoice(user.accountIds, "user-accounts", (ids, box) => {
        box.disabled = true;
        this.update(user, { accountIds: ids });
      });
      accounts = h("details", { class: "accounts-edit" }, summary, choice.element);
    }
    const enabled = h("input", { type: "checkbox", checked: user.enabled, disabled: !this.canEdit, dataset: { testid: "user-enabled" } });
    enabled.onchange = () => this.update(user, { enabled: enabled.checked });
    return h(
      "tr",
      { dataset: { testid: "user-row", userId: user.id, email: user.email } },
      h("td", {}, h("strong", {}, user.name), h("div", { class: "muted small" }, user.email)),
      h("td", {}, role),
      h("td", {}, accounts),
      h("td", {}, h("label", { class: "check" }, enabled, " ", user.enabled ? t("users.enabled") : t("users.disabled"))),
      h("td", { title: fullTime(user.lastSeenAt) }, user.lastSeenAt ? shortTime(user.lastSeenAt) : t("users.neverSeen")),
    );
  }

  async update(user, change) {
    try {
      const updated = await this.app.api.request("PUT", `/users/${enc(user.id)}`, { json: change });
      this.users.set(updated.id, updated);
      this.say(t("users.saved", { name: updated.name }), "success");
    } catch (error) {
      this.say(t("users.notSaved", { name: user.name, error: error.message }), "error");
    }
    this.render();
  }

  toggleInvite() {
    if (this.inviteSlot.firstChild) {
      replace(this.inviteSlot);
      return;
    }
    const email = h("input", { type: "email", required: true, autocomplete: "off", dataset: { testid: "invite-email" } });
    const name = h("input", { type: "text", required: true, maxlength: 100, dataset: { testid: "invite-name" } });
    const role = h("select", { dataset: { testid: "invite-role" } }, ROLES.map((value) => h("option", { value }, t(`role.${value}`))));
    const password = h("input", { type: "text", autocomplete: "off", placeholder: t("users.passwordGenerated"), dataset: { testid: "invite-password" } });
    const accounts = this.accountChoice([], "invite-accounts");
    const submit = h("button", { type: "submit", class: "primary", dataset: { testid: "invite-submit" } }, t("users.inviteSubmit"));
    const form = h(
      "form",
      {
        class: "invite-form",
        dataset: { testid: "invite-form" },
        onsubmit: async (event) => {
          event.preventDefault();
          submit.disabled = true;
          const body = { email: email.value.trim(), name: name.value.trim(), role: role.value };
          if (role.value === "operator") body.accountIds = accounts.chosen();
          if (password.value) body.temporaryPassword = password.value;
          try {
            const created = await this.app.api.request("POST", "/users", { json: body });
            this.users.set(created.id, created);
            this.render();
            replace(this.inviteSlot);
            const text = created.temporaryPassword
              ? t("users.invitedWithPassword", { email: created.email, password: created.temporaryPassword })
              : t("users.invited", { email: created.email });
            this.say(text, "success");
          } catch (error) {
            this.say(t("users.notInvited", { email: body.email, error: error.message }), "error");
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("label", {}, t("users.email"), email),
      h("label", {}, t("users.name"), name),
      h("label", {}, t("users.col.role"), role),
      h("label", {}, t("users.firstPassword"), password),
      h("fieldset", {}, h("legend", {}, t("users.operatorAccounts")), accounts.element),
      h("div", { class: "dialog-buttons" }, h("button", { type: "button", class: "ghost", onclick: () => replace(this.inviteSlot) }, t("common.cancel")), submit),
    );
    replace(this.inviteSlot, form);
    email.focus();
  }
}
