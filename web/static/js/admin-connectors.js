/* Admin: connectors. The add/edit form is built from each connector type's JSON schema
 * (GET /api/v1/connectors/types), so a new source, or a new field, needs no change here:
 * titles and descriptions become labels and inline help, secrets become password fields.
 * The list refreshes every few seconds while anything syncs.
 */
"use strict";

(function () {
  const E = window.Enclave;
  const { el, icon, api } = E;

  const listNode = document.getElementById("connector-list");
  const emptyNode = document.getElementById("connectors-empty");
  const statusNode = document.getElementById("connectors-status");
  const dialog = document.getElementById("connector-dialog");
  const dialogTitle = document.getElementById("connector-dialog-title");
  const typeGrid = document.getElementById("connector-types");
  const form = document.getElementById("connector-form");
  const fieldsNode = document.getElementById("connector-fields");
  const testResult = document.getElementById("connector-test-result");
  const backButton = document.getElementById("connector-back");
  const testButton = document.getElementById("connector-test");
  const saveButton = document.getElementById("connector-save");
  const runsDialog = document.getElementById("runs-dialog");
  const runsList = document.getElementById("runs-list");
  const runsTitle = document.getElementById("runs-dialog-title");

  const TYPE_ICONS = { local: "folder", sharepoint: "share", salesforce: "cloud" };
  const TYPE_BLURBS = {
    local: "A folder on this server, or a network share mounted on it.",
    sharepoint: "Document libraries of SharePoint Online sites, with their permissions.",
    salesforce: "Knowledge articles, cases, accounts and files of a Salesforce org.",
  };
  const ACRONYMS = { id: "ID", ids: "IDs", url: "URL", urls: "URLs", api: "API", ca: "CA" };
  const SYNC_POLL_MS = 2000;
  const IDLE_POLL_MS = 15000;

  let types = [];
  let connectors = [];
  let editing = null; // {type, connector|null}
  let pollTimer = null;
  let fastUntil = 0;

  // ---------------------------------------------------------------- schema -> form

  function labelFor(name) {
    const words = name.split("_").map((w) => ACRONYMS[w] || w);
    const first = words[0];
    words[0] = ACRONYMS[first.toLowerCase()] ? first : first.charAt(0).toUpperCase() + first.slice(1);
    return words.join(" ");
  }

  /* One property of a pydantic JSON schema as a form field description. */
  function describeField(name, prop, required) {
    let shape = prop;
    let nullable = false;
    if (Array.isArray(prop.anyOf)) {
      const kinds = prop.anyOf.filter((p) => p.type !== "null");
      nullable = kinds.length < prop.anyOf.length;
      shape = Object.assign({}, kinds[0] || {});
    }
    let kind = "text";
    if (shape.enum) kind = "select";
    else if (shape.type === "boolean") kind = "checkbox";
    else if (shape.type === "integer" || shape.type === "number") kind = "number";
    else if (shape.type === "array" && shape.items && shape.items.enum) kind = "choices";
    else if (shape.type === "array") kind = "list";
    else if (shape.format === "password" || shape.writeOnly) kind = "secret";
    return {
      name,
      kind,
      label: labelFor(name),
      help: prop.description || "",
      required: required.includes(name),
      nullable,
      hasDefault: Object.prototype.hasOwnProperty.call(prop, "default"),
      default: prop.default,
      options: kind === "select" ? shape.enum : kind === "choices" ? shape.items.enum : null,
      advanced: prop.advanced === true,  // rarely changed: under "Advanced settings"
      pattern: shape.pattern || null,
    };
  }

  function inputFor(field, value, editMode) {
    const id = "cfg-" + field.name;
    const helpId = id + "-help";
    const described = field.help ? helpId : null;
    let control;
    if (field.kind === "checkbox") {
      control = el("input", { type: "checkbox", id, name: field.name, "aria-describedby": described });
      control.checked = value !== undefined && value !== null ? Boolean(value) : Boolean(field.default);
      return el("div", { class: "field", "data-field": field.name },
        el("label", { class: "check", for: id }, control, el("span", { text: field.label })),
        field.help ? el("p", { class: "help", id: helpId, text: field.help }) : null);
    }
    if (field.kind === "choices") {
      const chosen = Array.isArray(value) ? value : field.hasDefault ? field.default || [] : field.options;
      const boxes = field.options.map((option) => {
        const box = el("input", { type: "checkbox", name: field.name, value: option, id: id + "-" + option });
        box.checked = chosen.includes(option);
        return el("label", { class: "check", for: id + "-" + option }, box, el("span", { text: option }));
      });
      return el("fieldset", { class: "field", "aria-describedby": described, "data-field": field.name },
        el("legend", { class: "field-label", text: field.label }),
        el("div", { class: "checks" }, boxes),
        field.help ? el("p", { class: "help", id: helpId, text: field.help }) : null);
    }
    if (field.kind === "select") {
      control = el("select", { id, name: field.name, "aria-describedby": described },
        field.options.map((option) => el("option", { value: option, text: option })));
      control.value = value !== undefined && value !== null ? value : field.hasDefault ? field.default : field.options[0];
    } else if (field.kind === "list") {
      control = el("textarea", { id, name: field.name, rows: 2, "aria-describedby": described,
        placeholder: field.required ? "One per line" : "One per line · leave empty for the default" });
      control.value = Array.isArray(value) ? value.join("\n") : "";
    } else if (field.kind === "secret") {
      control = el("input", { type: "password", id, name: field.name, autocomplete: "new-password", "aria-describedby": described,
        placeholder: editMode && value ? "Stored · type a new one to replace it" : "" });
    } else {
      control = el("input", { type: field.kind === "number" ? "number" : "text", id, name: field.name, "aria-describedby": described,
        autocomplete: "off", spellcheck: "false", placeholder: field.hasDefault && field.default !== null ? String(field.default) : "" });
      if (value !== undefined && value !== null) control.value = String(value);
      else if (field.hasDefault && field.default !== null) control.value = String(field.default);
    }
    if (field.required && !(field.kind === "secret" && editMode)) control.required = true;
    return el("div", { class: "field", "data-field": field.name },
      el("label", { for: id }, field.label, field.required ? null : el("span", { class: "optional", text: " (optional)" })),
      control,
      field.help ? el("p", { class: "help", id: helpId, text: field.help }) : null);
  }

  function schemaFields(type) {
    const schema = type.schema || {};
    const required = schema.required || [];
    const fields = Object.entries(schema.properties || {}).map(([name, prop]) => describeField(name, prop, required));
    // Required first, in schema order; then the rest; advanced last.
    const rank = (f) => (f.advanced ? 2 : f.required ? 0 : 1);
    return fields.map((f, i) => [f, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([f]) => f);
  }

  function buildForm(type, connector) {
    const editMode = Boolean(connector);
    const config = connector ? connector.config || {} : {};
    const fields = schemaFields(type);
    const name = el("input", { type: "text", id: "cfg-name", name: "name", required: true, autocomplete: "off", maxlength: 255 });
    name.value = connector ? connector.name : "";
    const schedule = el("input", { type: "number", id: "cfg-schedule", name: "schedule_minutes", min: 1, max: 10080,
      placeholder: "15", "aria-describedby": "cfg-schedule-help" });
    if (connector) schedule.value = connector.schedule_minutes;
    const basics = [
      el("div", { class: "field" }, el("label", { for: "cfg-name", text: "Name" }), name,
        el("p", { class: "help", text: "How this source is shown to admins, e.g. “HR policies”." })),
    ];
    const main = fields.filter((f) => !f.advanced).map((f) => inputFor(f, config[f.name], editMode));
    const advanced = fields.filter((f) => f.advanced).map((f) => inputFor(f, config[f.name], editMode));
    const scheduleField = el("div", { class: "field" }, el("label", { for: "cfg-schedule", text: "Sync every (minutes)" }), schedule,
      el("p", { class: "help", id: "cfg-schedule-help", text: "Changes are picked up on this schedule. Leave empty for the default (15)." }));
    fieldsNode.replaceChildren(
      el("div", { class: "form" }, basics, main, scheduleField,
        advanced.length ? el("details", { class: "advanced" }, el("summary", { text: "Advanced settings" }), advanced) : null));
    fieldsNode.dataset.fields = JSON.stringify(fields);
    showDependentFields(fields);
  }

  /* A field whose help begins "password auth only: …" or "<choice> only: …", where <choice> is an
   * option of a choice field, is shown only while that option is chosen. */
  function showDependentFields(fields) {
    const rules = [];
    for (const choice of fields.filter((f) => f.kind === "select")) {
      for (const field of fields) {
        const option = choice.options.find((o) => new RegExp("^" + o.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + " (\\w+ )?only\\b", "i").test(field.help));
        if (option && field !== choice) rules.push({ field: field.name, on: choice.name, value: option });
      }
    }
    const apply = () => {
      for (const rule of rules) {
        const wrapper = fieldsNode.querySelector('[data-field="' + rule.field + '"]');
        const control = form.elements[rule.on];
        if (wrapper && control) wrapper.hidden = control.value !== rule.value;
      }
    };
    for (const name of new Set(rules.map((r) => r.on))) form.elements[name].addEventListener("change", apply);
    apply();
  }

  function collect(editMode) {
    const fields = JSON.parse(fieldsNode.dataset.fields || "[]");
    const config = {};
    for (const field of fields) {
      const wrapper = fieldsNode.querySelector('[data-field="' + field.name + '"]');
      if (wrapper && wrapper.hidden) continue; // not asked for with the current choices
      if (field.kind === "choices") {
        config[field.name] = Array.from(form.querySelectorAll('input[name="' + field.name + '"]:checked')).map((b) => b.value);
        continue;
      }
      const control = form.elements[field.name];
      if (!control) continue;
      if (field.kind === "checkbox") {
        config[field.name] = control.checked;
      } else if (field.kind === "list") {
        const items = control.value.split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
        if (items.length || editMode) config[field.name] = items;
      } else if (field.kind === "number") {
        if (control.value !== "") config[field.name] = Number(control.value);
      } else {
        const value = control.value.trim();
        if (value !== "") config[field.name] = value;
        else if (editMode && field.nullable && field.kind !== "secret") config[field.name] = null;
      }
    }
    const scheduleValue = form.elements.schedule_minutes.value;
    return {
      name: form.elements.name.value.trim(),
      config,
      schedule_minutes: scheduleValue ? Number(scheduleValue) : null,
    };
  }

  // ---------------------------------------------------------------- dialog flow

  function showTypes() {
    editing = null;
    dialogTitle.textContent = "Add connector";
    form.hidden = true;
    typeGrid.hidden = false;
    typeGrid.replaceChildren(...types.map((type) => {
      const option = el("button", { type: "button", class: "type-option", "data-type": type.type },
        el("span", { class: "connector-icon" }, icon(TYPE_ICONS[type.type] || "plug")),
        el("strong", { text: type.label }),
        el("span", { text: TYPE_BLURBS[type.type] || "" }));
      option.addEventListener("click", () => showForm(type, null));
      return option;
    }));
    const first = typeGrid.querySelector("button");
    if (first) first.focus();
  }

  function showForm(type, connector) {
    editing = { type, connector };
    dialogTitle.textContent = connector ? "Edit “" + connector.name + "”" : "Add " + type.label;
    typeGrid.hidden = true;
    form.hidden = false;
    backButton.hidden = Boolean(connector);
    saveButton.textContent = connector ? "Save changes" : "Save and sync";
    testResult.hidden = true;
    buildForm(type, connector);
    form.elements.name.focus();
  }

  function showResult(kind, message) {
    testResult.className = "test-result " + kind;
    testResult.replaceChildren(icon(kind === "ok" ? "check" : kind === "failed" ? "alert" : "sync"), el("span", { text: message }));
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

  document.getElementById("add-connector").addEventListener("click", async () => {
    await typesLoaded;
    showTypes();
    dialog.showModal();
    const first = typeGrid.querySelector("button");
    if (first) first.focus();
  });

  backButton.addEventListener("click", showTypes);

  testButton.addEventListener("click", async () => {
    if (!editing) return;
    const editMode = Boolean(editing.connector);
    const { config } = collect(editMode);
    showResult("pending", "Testing the connection…");
    testButton.disabled = true;
    try {
      const outcome = editMode
        ? await api("POST", "/api/v1/connectors/" + editing.connector.id + "/test", { config })
        : await api("POST", "/api/v1/connectors/test", { type: editing.type.type, config });
      showResult(outcome.ok ? "ok" : "failed", outcome.message || (outcome.ok ? "Connected." : "The connection failed."));
    } catch (error) {
      showResult("failed", error.message);
    } finally {
      testButton.disabled = false;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!editing || !formIsValid()) return;
    const editMode = Boolean(editing.connector);
    const values = collect(editMode);
    saveButton.disabled = true;
    try {
      if (editMode) {
        const changes = { name: values.name, config: values.config };
        if (values.schedule_minutes) changes.schedule_minutes = values.schedule_minutes;
        await api("PATCH", "/api/v1/connectors/" + editing.connector.id, changes);
        E.toast("Saved “" + values.name + "”");
      } else {
        const body = { type: editing.type.type, name: values.name, config: values.config };
        if (values.schedule_minutes) body.schedule_minutes = values.schedule_minutes;
        await api("POST", "/api/v1/connectors", body);
        E.toast("Added “" + values.name + "”. Its first sync has started.");
        fastUntil = Date.now() + 15000;
      }
      dialog.close();
      await refresh();
    } catch (error) {
      showResult("failed", error.message);
    } finally {
      saveButton.disabled = false;
    }
  });

  // ---------------------------------------------------------------- the list

  const STATES = {
    idle: { label: "Up to date", icon: "check" },
    syncing: { label: "Syncing", icon: "sync" },
    error: { label: "Error", icon: "alert" },
    paused: { label: "Paused", icon: "pause" },
  };

  function where(connector) {
    const c = connector.config || {};
    if (c.path) return c.path;
    if (Array.isArray(c.site_urls) && c.site_urls.length) return c.site_urls.join(", ");
    if (c.login_url) return c.login_url;
    return "";
  }

  function fact(label, value) {
    return el("div", {}, el("dt", { text: label }), el("dd", {}, value));
  }

  function progressLine(progress, syncing) {
    if (!progress) return null;
    const numbers = [
      ["seen", progress.seen],
      ["indexed", progress.indexed],
      ["unchanged", progress.unchanged],
      ["failed", progress.failed],
      ["deleted", progress.deleted],
    ];
    return el("div", { class: "progress" + (syncing ? " progress-live" : ""), "data-progress": "" },
      el("span", {}, el("strong", { text: syncing ? "Now: " : "Last sync: " }), progress.phase || ""),
      numbers.map(([name, value]) => el("span", { "data-count": name }, el("strong", { text: String(value ?? 0) }), " " + name)),
      progress.per_minute == null ? null : el("span", { "data-rate": "" }, el("strong", { text: String(progress.per_minute) }), " per minute"));
  }

  function nextSync(connector, syncing) {
    if (connector.paused) return el("span", { class: "muted", text: "paused" });
    if (connector.next_sync_at) return E.timeElement(connector.next_sync_at, true);
    return el("span", { class: "muted", text: syncing ? "after this one" : "not scheduled" });
  }

  function connectorCard(connector) {
    let state = STATES[connector.state] || { label: connector.state, icon: "info" };
    if (connector.state === "idle" && !connector.last_sync_at && !connector.progress) {
      state = { label: "Waiting for first sync", icon: "sync" };
    }
    const syncing = connector.state === "syncing";
    const syncNow = E.button("Sync now", "sync", { class: "btn btn-secondary btn-small", disabled: syncing });
    const pause = E.button(connector.paused ? "Resume" : "Pause", connector.paused ? "play" : "pause", { class: "btn btn-secondary btn-small" });
    const edit = E.button("Edit", "pencil", { class: "btn btn-secondary btn-small" });
    const history = E.button("History", "book", { class: "btn btn-ghost btn-small" });
    const remove = E.button("Delete", "trash", { class: "btn btn-ghost btn-small" });
    syncNow.addEventListener("click", () => syncConnector(connector));
    pause.addEventListener("click", () => togglePause(connector));
    edit.addEventListener("click", () => editConnector(connector));
    history.addEventListener("click", () => showRuns(connector));
    remove.addEventListener("click", () => deleteConnector(connector));
    const place = where(connector);
    return el("li", { class: "connector", "data-connector": String(connector.id), "data-state": connector.state, "aria-labelledby": "connector-" + connector.id },
      el("div", { class: "connector-head" },
        el("span", { class: "connector-icon" }, icon(TYPE_ICONS[connector.type] || "plug")),
        el("div", { class: "connector-name" },
          el("h2", { id: "connector-" + connector.id, text: connector.name }),
          el("p", { text: connector.label + (place ? " · " + place : "") })),
        el("span", { class: "badge state state-" + connector.state, "data-state-label": "" }, icon(state.icon), state.label)),
      progressLine(connector.progress, syncing),
      connector.last_error ? el("div", { class: "connector-error", role: "note" }, el("strong", { text: "Last error: " }), connector.last_error) : null,
      el("dl", { class: "connector-facts" },
        fact("Documents", String(connector.documents)),
        fact("Last sync", E.timeElement(connector.last_sync_at, true)),
        fact("Next sync", nextSync(connector, syncing)),
        fact("Schedule", "every " + connector.schedule_minutes + " min")),
      el("div", { class: "connector-actions" }, syncNow, pause, edit, history, remove));
  }

  function render() {
    listNode.setAttribute("aria-busy", "false");
    emptyNode.hidden = connectors.length > 0;
    // Keep focus where it was across refreshes.
    const focused = document.activeElement && listNode.contains(document.activeElement)
      ? [document.activeElement.closest("[data-connector]")?.dataset.connector, Array.from(document.activeElement.closest("[data-connector]")?.querySelectorAll("button") || []).indexOf(document.activeElement)]
      : null;
    listNode.replaceChildren(...connectors.map(connectorCard));
    if (focused && focused[0]) {
      const card = listNode.querySelector('[data-connector="' + focused[0] + '"]');
      const buttons = card ? card.querySelectorAll("button") : [];
      if (buttons[focused[1]] && !buttons[focused[1]].disabled) buttons[focused[1]].focus();
    }
  }

  async function refresh() {
    clearTimeout(pollTimer);
    try {
      connectors = await api("GET", "/api/v1/connectors");
      statusNode.hidden = true;
      render();
    } catch (error) {
      statusNode.textContent = "Could not load the connectors: " + error.message;
      statusNode.hidden = false;
    }
    const busy = connectors.some((c) => c.state === "syncing") || Date.now() < fastUntil;
    pollTimer = setTimeout(refresh, busy ? SYNC_POLL_MS : IDLE_POLL_MS);
  }

  async function syncConnector(connector) {
    try {
      await api("POST", "/api/v1/connectors/" + connector.id + "/sync", {});
      E.toast("Sync of “" + connector.name + "” started");
      fastUntil = Date.now() + 10000;
      refresh();
    } catch (error) {
      E.toast("Could not start the sync: " + error.message, "error");
    }
  }

  async function togglePause(connector) {
    try {
      await api("PATCH", "/api/v1/connectors/" + connector.id, { paused: !connector.paused });
      E.toast((connector.paused ? "Resumed “" : "Paused “") + connector.name + "”");
      refresh();
    } catch (error) {
      E.toast("Could not change it: " + error.message, "error");
    }
  }

  async function editConnector(connector) {
    await typesLoaded;
    const type = types.find((t) => t.type === connector.type);
    if (!type) return E.toast("Unknown connector type " + connector.type, "error");
    showForm(type, connector);
    dialog.showModal();
    form.elements.name.focus();
  }

  async function deleteConnector(connector) {
    const count = connector.documents === 1 ? "its 1 document" : "its " + connector.documents + " documents";
    const yes = await E.confirm({
      title: "Delete “" + connector.name + "”?",
      message: "The connector and " + count + " will be removed from Enclave. The originals in the source are not touched.",
      confirm: "Delete connector and documents",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/connectors/" + connector.id);
      E.toast("Deleted “" + connector.name + "”");
      refresh();
    } catch (error) {
      E.toast("Could not delete: " + error.message, "error");
    }
  }

  const RUN_BADGES = { running: "badge-info", succeeded: "badge-ok", failed: "badge-error", deferred: "badge-warn" };

  async function showRuns(connector) {
    runsTitle.textContent = "Sync history of “" + connector.name + "”";
    runsList.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
    runsDialog.showModal();
    let runs;
    try {
      runs = await api("GET", "/api/v1/connectors/" + connector.id + "/runs");
    } catch (error) {
      runsList.replaceChildren(el("p", { class: "error-text", text: error.message }));
      return;
    }
    if (!runs.length) {
      runsList.replaceChildren(el("p", { class: "muted", text: "No syncs yet." }));
      return;
    }
    runsList.replaceChildren(...runs.map((run) =>
      el("div", { class: "run" },
        el("div", { class: "run-head" },
          el("span", { class: "badge " + (RUN_BADGES[run.status] || ""), text: run.status }),
          el("span", { text: run.full ? "Full sync" : "Changes" }),
          el("span", { class: "muted" }, E.timeElement(run.started_at, false)),
          run.finished_at ? el("span", { class: "muted", text: "· took " + duration(run.started_at, run.finished_at) }) : null),
        el("p", { class: "run-numbers", text: [run.seen + " seen", run.indexed + " indexed", run.unchanged + " unchanged",
          run.failed + " failed", run.deleted + " deleted"].join(" · ") }),
        run.error ? el("p", { class: "error-text", text: run.error }) : null,
        run.log && run.log.length ? el("details", {}, el("summary", { text: "Log (" + run.log.length + " lines)" }),
          el("pre", { class: "run-log", text: run.log.join("\n") })) : null)));
  }

  function duration(start, end) {
    const seconds = Math.max(0, Math.round((E.parseDate(end) - E.parseDate(start)) / 1000));
    return seconds < 60 ? seconds + " s" : Math.round(seconds / 60) + " min";
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });

  const typesLoaded = api("GET", "/api/v1/connectors/types")
    .then((loaded) => {
      types = loaded;
    })
    .catch((error) => {
      statusNode.textContent = "Could not load the connector types: " + error.message;
      statusNode.hidden = false;
    });
  refresh();
})();
