// "Шаблоны" (#/templates): the quick replies the user sees (shared and their own), created, changed and deleted
// here (GET/POST /templates, PUT/DELETE /templates/{id}); shared ones only by admins and directors.
// "Автоответы" (#/auto-replies/<accountId>): an account's greeting, out-of-hours reply and working hours
// (GET/PUT /accounts/{id}/auto-replies); admins change them, everyone else reads them.

import { h, replace } from "./dom.js";
import { enc } from "./api.js";
import { t } from "./i18n.js";

const SUPERVISORS = ["admin", "director"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function notice(element, text, kind = "info") {
  element.hidden = !text;
  element.className = `notice ${kind}`;
  element.textContent = text || "";
}

export class TemplatesView {
  constructor(app) {
    this.app = app;
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "templates-notice" } });
    this.list = h("div", { class: "table-wrap", dataset: { testid: "templates" } });
    this.title = h("input", { maxlength: 100, placeholder: t("templates.titlePlaceholder"), "aria-label": t("templates.name"), dataset: { testid: "template-title" } });
    this.text = h("textarea", { rows: 3, maxlength: 2000, placeholder: t("templates.textPlaceholder"), "aria-label": t("templates.text"), dataset: { testid: "template-text" } });
    this.shared = h("input", { type: "checkbox", dataset: { testid: "template-shared" } });
    this.sharedLabel = h("label", { class: "check" }, this.shared, " ", t("templates.shared"));
    this.editing = null;
    this.save = h("button", { type: "submit", class: "primary", dataset: { testid: "template-save" } }, t("templates.add"));
    this.form = h(
      "form",
      { class: "stack", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      this.title,
      this.text,
      h("p", { class: "muted small" }, t("templates.placeholders")),
      h("div", { class: "toolbar" }, this.sharedLabel, this.save, h("button", { type: "button", class: "ghost", onclick: () => this.reset() }, t("common.cancel"))),
    );
    this.element = h("section", { class: "page" }, h("div", { class: "page-head" }, h("h1", {}, t("templates.title"))), this.notice, this.form, this.list);
  }

  async show() {
    this.sharedLabel.hidden = !SUPERVISORS.includes(this.app.session.role);
    await this.load();
  }

  async load() {
    try {
      this.templates = await this.app.api.all("/templates");
      this.render();
    } catch (error) {
      notice(this.notice, t("templates.failed", { error: error.message }), "error");
    }
  }

  render() {
    const mayChange = (tpl) => !tpl.shared || SUPERVISORS.includes(this.app.session.role);
    const rows = this.templates.map((tpl) =>
      h(
        "tr",
        { dataset: { testid: "template-row", templateId: tpl.id } },
        h("td", {}, h("strong", {}, tpl.title)),
        h("td", { class: "pre" }, tpl.text),
        h("td", {}, tpl.shared ? t("templates.sharedTag") : t("templates.personalTag")),
        h(
          "td",
          { class: "actions" },
          mayChange(tpl) ? h("button", { type: "button", class: "ghost small", onclick: () => this.edit(tpl) }, t("templates.edit")) : null,
          mayChange(tpl) ? h("button", { type: "button", class: "ghost small danger", dataset: { testid: "template-delete" }, onclick: () => this.remove(tpl) }, t("templates.delete")) : null,
        ),
      ),
    );
    replace(
      this.list,
      rows.length
        ? h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", {}, t("templates.name")), h("th", {}, t("templates.text")), h("th", {}, t("templates.kind")), h("th", {}))), h("tbody", {}, rows))
        : h("p", { class: "muted" }, t("templates.none")),
    );
  }

  edit(tpl) {
    this.editing = tpl;
    this.title.value = tpl.title;
    this.text.value = tpl.text;
    this.shared.checked = tpl.shared;
    this.shared.disabled = true; // fixed when it is created
    this.save.textContent = t("templates.saveChanges");
    this.title.focus();
  }

  reset() {
    this.editing = null;
    this.title.value = "";
    this.text.value = "";
    this.shared.checked = false;
    this.shared.disabled = false;
    this.save.textContent = t("templates.add");
  }

  async submit() {
    const body = { title: this.title.value, text: this.text.value };
    try {
      if (this.editing) await this.app.api.request("PUT", `/templates/${enc(this.editing.id)}`, { json: body });
      else await this.app.api.post("/templates", { ...body, shared: this.shared.checked });
      notice(this.notice, t("templates.saved"), "success");
      this.reset();
      await this.load();
    } catch (error) {
      notice(this.notice, t("templates.notSaved", { error: error.message }), "error");
    }
  }

  async remove(tpl) {
    try {
      await this.app.api.request("DELETE", `/templates/${enc(tpl.id)}`);
      await this.load();
    } catch (error) {
      notice(this.notice, t("templates.notSaved", { error: error.message }), "error");
    }
  }
}

export class AutoRepliesView {
  constructor(app) {
    this.app = app;
    this.accountId = "";
    this.account = h("select", { dataset: { testid: "auto-account" }, "aria-label": t("auto.account"), onchange: () => this.app.navigate(`#/auto-replies/${enc(this.account.value)}`) });
    this.notice = h("div", { class: "notice", hidden: true, dataset: { testid: "auto-notice" } });
    this.greetingOn = h("input", { type: "checkbox", dataset: { testid: "auto-greeting-enabled" } });
    this.greeting = h("textarea", { rows: 2, maxlength: 1000, "aria-label": t("auto.greeting"), dataset: { testid: "auto-greeting-text" } });
    this.nightOn = h("input", { type: "checkbox", dataset: { testid: "auto-night-enabled" } });
    this.night = h("textarea", { rows: 2, maxlength: 1000, "aria-label": t("auto.outOfHours"), dataset: { testid: "auto-night-text" } });
    this.timezone = h("input", { maxlength: 64, "aria-label": t("auto.timezone"), dataset: { testid: "auto-timezone" } });
    this.holidays = h("input", { placeholder: "2027-01-01, 2027-01-07", "aria-label": t("auto.holidays"), dataset: { testid: "auto-holidays" } });
    this.days = Object.fromEntries(
      DAYS.map((day) => [
        day,
        {
          on: h("input", { type: "checkbox", dataset: { testid: `auto-day-${day}` } }),
          from: h("input", { type: "time", "aria-label": t("auto.from") }),
          to: h("input", { type: "time", "aria-label": t("auto.to") }),
        },
      ]),
    );
    this.save = h("button", { type: "submit", class: "primary", dataset: { testid: "auto-save" } }, t("auto.save"));
    this.form = h(
      "form",
      { class: "stack", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      h("h2", {}, t("auto.greeting")),
      h("label", { class: "check" }, this.greetingOn, " ", t("auto.greetingOn")),
      this.greeting,
      h("h2", {}, t("auto.outOfHours")),
      h("label", { class: "check" }, this.nightOn, " ", t("auto.outOfHoursOn")),
      this.night,
      h("h2", {}, t("auto.workingHours")),
      h("label", {}, t("auto.timezone"), " ", this.timezone),
      h(
        "table",
        { class: "table compact" },
        h("tbody", {}, DAYS.map((day) => h("tr", {}, h("td", {}, h("label", { class: "check" }, this.days[day].on, " ", t(`auto.day.${day}`))), h("td", {}, this.days[day].from, " – ", this.days[day].to)))),
      ),
      h("label", {}, t("auto.holidays"), " ", this.holidays),
      h("p", { class: "muted small" }, t("auto.explain")),
      this.save,
    );
    this.element = h("section", { class: "page" }, h("div", { class: "page-head" }, h("h1", {}, t("auto.title")), h("div", { class: "toolbar" }, this.account)), this.notice, this.form);
  }

  async show(accountId) {
    if (!this.app.accounts.size) await this.app.loadAccounts();
    const accounts = [...this.app.accounts.values()];
    this.accountId = accountId && this.app.accounts.has(accountId) ? accountId : accounts[0]?.id || "";
    replace(this.account, accounts.map((account) => h("option", { value: account.id, selected: account.id === this.accountId }, account.name)));
    this.account.value = this.accountId;
    notice(this.notice, "");
    const admin = this.app.session.role === "admin";
    for (const field of this.form.querySelectorAll("input, textarea, button")) field.disabled = !admin;
    this.save.hidden = !admin;
    if (!this.accountId) return;
    try {
      this.fill(await this.app.api.get(`/accounts/${enc(this.accountId)}/auto-replies`));
    } catch (error) {
      notice(this.notice, t("auto.failed", { error: error.message }), "error");
    }
  }

  fill(settings) {
    this.greetingOn.checked = settings.greeting.enabled;
    this.greeting.value = settings.greeting.text;
    this.nightOn.checked = settings.outOfHours.enabled;
    this.night.value = settings.outOfHours.text;
    this.timezone.value = settings.workingHours.timezone;
    this.holidays.value = (settings.workingHours.holidays || []).join(", ");
    for (const day of DAYS) {
      const hours = settings.workingHours.days[day];
      this.days[day].on.checked = Boolean(hours);
      this.days[day].from.value = hours ? hours[0] : "09:00";
      this.days[day].to.value = hours ? (hours[1] === "24:00" ? "00:00" : hours[1]) : "21:00";
    }
  }

  async submit() {
    const days = {};
    for (const day of DAYS) if (this.days[day].on.checked) days[day] = [this.days[day].from.value, this.days[day].to.value];
    const body = {
      greeting: { enabled: this.greetingOn.checked, text: this.greeting.value },
      outOfHours: { enabled: this.nightOn.checked, text: this.night.value },
      workingHours: { timezone: this.timezone.value.trim(), days, holidays: this.holidays.value.split(/[\s,;]+/).filter(Boolean) },
    };
    try {
      this.fill(await this.app.api.request("PUT", `/accounts/${enc(this.accountId)}/auto-replies`, { json: body }));
      notice(this.notice, t("auto.saved"), "success");
    } catch (error) {
      const fields = (error.details || []).map((detail) => detail.field).join(", ");
      notice(this.notice, t("auto.notSaved", { error: fields ? `${error.message} (${fields})` : error.message }), "error");
    }
  }
}
