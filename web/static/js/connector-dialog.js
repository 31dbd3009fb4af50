/* The add/edit connector dialog: pick a type, fill in its form, test the connection, save.
 * Saving a new connector starts its first sync on the server.
 */
import { api, el, icon, toast } from "./common.js";
import { buildForm, collect } from "./connector-form.js";
import { TYPE_BLURBS, typeIcon } from "./connector-types.js";

const dialog = document.getElementById("connector-dialog");
const dialogTitle = document.getElementById("connector-dialog-title");
const typeGrid = document.getElementById("connector-types");
const form = document.getElementById("connector-form");
const testResult = document.getElementById("connector-test-result");
const backButton = document.getElementById("connector-back");
const testButton = document.getElementById("connector-test");
const saveButton = document.getElementById("connector-save");

/* The outcome of a test or save, as an alert in its tone (none: a quiet grey one). */
const RESULTS = {
  ok: { tone: "ok", icon: "check" },
  failed: { tone: "error", icon: "alert" },
  pending: { tone: null, icon: "sync" },
};

export class ConnectorDialog {
  /* types: a promise of the connector types; onSaved({added}) runs once a connector is saved. */
  constructor({ types, onSaved }) {
    this.types = types;
    this.onSaved = onSaved;
    this.editing = null; // {type, connector|null}
    backButton.addEventListener("click", () => this.showTypes());
    testButton.addEventListener("click", () => this.test());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  async add() {
    await this.showTypes();
    dialog.showModal();
    const first = typeGrid.querySelector("button");
    if (first) first.focus();
  }

  async edit(connector) {
    const type = (await this.types).find((t) => t.type === connector.type);
    if (!type) return toast("Unknown connector type " + connector.type, "error");
    this.showForm(type, connector);
    dialog.showModal();
    form.elements.name.focus();
  }

  async showTypes() {
    const types = await this.types;
    this.editing = null;
    dialogTitle.textContent = "Add connector";
    form.hidden = true;
    typeGrid.hidden = false;
    typeGrid.replaceChildren(...types.map((type) => {
      const option = el("button", { type: "button", class: "type-option", "data-type": type.type },
        el("span", { class: "connector-icon" }, icon(typeIcon(type.type))),
        el("strong", { text: type.label }),
        el("span", { text: TYPE_BLURBS[type.type] || "" }));
      option.addEventListener("click", () => this.showForm(type, null));
      return option;
    }));
    const first = typeGrid.querySelector("button");
    if (first) first.focus();
  }

  showForm(type, connector) {
    this.editing = { type, connector };
    dialogTitle.textContent = connector ? "Edit “" + connector.name + "”" : "Add " + type.label;
    typeGrid.hidden = true;
    form.hidden = false;
    backButton.hidden = Boolean(connector);
    saveButton.textContent = connector ? "Save changes" : "Save and sync";
    testResult.hidden = true;
    buildForm(type, connector);
    form.elements.name.focus();
  }

  async test() {
    if (!this.editing) return;
    const { type, connector } = this.editing;
    const { config } = collect(Boolean(connector));
    showResult("pending", "Testing the connection…");
    testButton.disabled = true;
    try {
      const outcome = connector
        ? await api("POST", "/api/v1/connectors/" + connector.id + "/test", { config })
        : await api("POST", "/api/v1/connectors/test", { type: type.type, config });
      showResult(outcome.ok ? "ok" : "failed", outcome.message || (outcome.ok ? "Connected." : "The connection failed."));
    } catch (error) {
      showResult("failed", error.message);
    } finally {
      testButton.disabled = false;
    }
  }

  async save() {
    if (!this.editing || !formIsValid()) return;
    const { type, connector } = this.editing;
    const values = collect(Boolean(connector));
    saveButton.disabled = true;
    try {
      if (connector) {
        const changes = { name: values.name, config: values.config };
        if (values.schedule_minutes) changes.schedule_minutes = values.schedule_minutes;
        await api("PATCH", "/api/v1/connectors/" + connector.id, changes);
        toast("Saved “" + values.name + "”");
      } else {
        const body = { type: type.type, name: values.name, config: values.config };
        if (values.schedule_minutes) body.schedule_minutes = values.schedule_minutes;
        await api("POST", "/api/v1/connectors", body);
        toast("Added “" + values.name + "”. Its first sync has started.");
      }
      dialog.close();
      await this.onSaved({ added: !connector });
    } catch (error) {
      showResult("failed", error.message);
    } finally {
      saveButton.disabled = false;
    }
  }
}

function showResult(outcome, message) {
  const { tone, icon: iconName } = RESULTS[outcome];
  testResult.className = "test-result alert" + (tone ? " alert--" + tone : "");
  testResult.dataset.outcome = outcome;
  testResult.replaceChildren(icon(iconName), el("span", { text: message }));
  testResult.hidden = false;
}

function formIsValid() {
  const invalid = Array.from(form.querySelectorAll("input, select, textarea")).find((c) => !c.closest("[hidden]") && !c.checkValidity());
  if (invalid) {
    invalid.focus();
    const label = form.querySelector('label[for="' + invalid.id + '"]');
    showResult("failed", (label ? label.textContent.replace(" (optional)", "") : "A field") + ": " + (invalid.validationMessage || "check this value"));
    return false;
  }
  return true;
}
