/* The add/edit form of a connector, built from its type's JSON schema (GET /api/v1/connectors/types),
 * so a new source, or a new field, needs no change here: titles and descriptions become labels and
 * inline help, secrets become password fields, rarely changed fields go under "Advanced settings".
 */
import { el } from "./common.js";

const form = document.getElementById("connector-form");
const fieldsNode = document.getElementById("connector-fields");

const ACRONYMS = { id: "ID", ids: "IDs", url: "URL", urls: "URLs", api: "API", ca: "CA" };

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

export function buildForm(type, connector) {
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

export function collect(editMode) {
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
