/* Helpers every page imports: an ES module, no build step, nothing put on `window`.
 *
 * api(method, path, body)        JSON over the REST API with the session's CSRF token;
 *                                a lost session goes back to /login.
 * el(tag, attrs, ...kids)        builds DOM (text is always set as text, never as HTML).
 * icon(name)                     an inline SVG icon from the page's icon library.
 * confirmAction({...})           a modal yes/no question; resolves true or false.
 * toast(text, tone)              a short message in a polite live region ("info" or "error").
 * copyText(text)                 copies, also where navigator.clipboard is missing (plain http).
 *
 * Importing it also wires what every page has: the log-out buttons, dialogs' [data-close]
 * buttons and server-rendered <time data-relative> stamps. A page that needs nothing else
 * loads this module alone (base.html's default).
 */

const csrfMeta = document.querySelector('meta[name="csrf-token"]');

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function csrfToken() {
  return csrfMeta ? csrfMeta.content : "";
}

function detailText(detail, fallback) {
  if (!detail) return fallback;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        const where = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body").join(".") : "";
        return (where ? where + ": " : "") + (d.msg || JSON.stringify(d));
      })
      .join("; ");
  }
  return JSON.stringify(detail);
}

export function toLogin() {
  const here = location.pathname + location.search;
  location.assign("/login" + (here === "/" ? "" : "?next=" + encodeURIComponent(here)));
}

/* Handles what every API caller must: an expired session, a password still to change. */
export async function checkResponse(response) {
  if (response.ok) return response;
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  const message = detailText(body && body.detail, response.status + " " + response.statusText);
  if (response.status === 401) {
    toLogin();
  } else if (response.status === 403 && /change your initial password/.test(message)) {
    location.assign("/password");
  }
  throw new ApiError(response.status, message, body);
}

export function headers(extra) {
  return Object.assign({ Accept: "application/json", "X-CSRF-Token": csrfToken() }, extra || {});
}

export async function api(method, path, body, options) {
  const init = { method, headers: headers(), credentials: "same-origin" };
  if (body !== undefined && body !== null) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (options && options.signal) init.signal = options.signal;
  const response = await checkResponse(await fetch(path, init));
  if (response.status === 204 || response.status === 202) {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const iconLibrary = document.getElementById("icons");

export function icon(name, extraClass) {
  const source = iconLibrary && iconLibrary.content.querySelector('[data-icon="' + name + '"]');
  if (!source) return document.createTextNode("");
  const svg = source.cloneNode(true);
  svg.removeAttribute("data-icon");
  if (extraClass) svg.classList.add(...extraClass.split(" "));
  return svg;
}

/* A button with an icon and a label; the label is visible or, with iconOnly, for screen readers. */
export function button(label, iconName, attrs, iconOnly) {
  const a = Object.assign({ type: "button" }, attrs || {});
  if (iconOnly) {
    a.class = "icon-button" + (a.class ? " " + a.class : "");
    a.title = a.title || label;
    return el("button", a, iconName ? icon(iconName) : null, el("span", { class: "visually-hidden", text: label }));
  }
  return el("button", a, iconName ? icon(iconName) : null, el("span", { text: label }));
}

const toasts = document.getElementById("toasts");

export function toast(text, tone = "info") {
  if (!toasts) return;
  const error = tone === "error";
  const item = el("div", { class: "toast toast--" + tone }, icon(error ? "alert" : "check"), el("span", { text }));
  toasts.append(item);
  setTimeout(() => item.classList.add("toast--leaving"), error ? 7000 : 3500);
  setTimeout(() => item.remove(), error ? 7500 : 4000);
}

const confirmDialog = document.getElementById("confirm-dialog");

export function confirmAction(options) {
  const o = Object.assign({ title: "Are you sure?", message: "", confirm: "Delete", danger: true }, options || {});
  if (!confirmDialog || typeof confirmDialog.showModal !== "function") return Promise.resolve(window.confirm(o.message || o.title));
  confirmDialog.querySelector("#confirm-title").textContent = o.title;
  confirmDialog.querySelector("#confirm-message").textContent = o.message;
  const ok = confirmDialog.querySelector("#confirm-ok");
  ok.textContent = o.confirm;
  ok.className = "btn " + (o.danger ? "btn-danger" : "btn-primary");
  confirmDialog.returnValue = "";
  return new Promise((resolve) => {
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "confirm"), { once: true });
    confirmDialog.showModal();
    confirmDialog.querySelector('button[value="cancel"]').focus();
  });
}

export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      /* fall back below */
    }
  }
  const area = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  let done = false;
  try {
    done = document.execCommand("copy");
  } catch (_) {
    done = false;
  }
  area.remove();
  return done;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/* Enclave's timestamps are UTC; some come without an offset (SQLite drops it), so say so. */
export function parseDate(iso) {
  const text = String(iso);
  return new Date(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? text + "Z" : text);
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = parseDate(iso);
  return isNaN(date) ? String(iso) : dateFormat.format(date);
}

export function relativeTime(iso) {
  if (!iso) return "";
  const date = parseDate(iso);
  if (isNaN(date)) return String(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return seconds > 0 ? "in a minute" : "a minute ago";
}

export function timeElement(iso, relative) {
  if (!iso) return el("span", { class: "muted", text: "never" });
  return el("time", { datetime: iso, title: formatDate(iso), text: relative ? relativeTime(iso) : formatDate(iso) });
}

export function formatBytes(size) {
  if (size === null || size === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
}

const SOURCE_KINDS = {
  local: { label: "Local file", icon: "folder" },
  upload: { label: "Upload", icon: "upload" },
  sharepoint: { label: "SharePoint", icon: "share" },
  salesforce: { label: "Salesforce", icon: "cloud" },
};

export function sourceKind(type) {
  return SOURCE_KINDS[type] || { label: type || "Document", icon: "file" };
}

/* Where a cited source opens: the stored original (a PDF at the passage's page), or the item's https
 * address in its own system. */
export function sourceLink(source) {
  const original = "/api/v1/documents/" + encodeURIComponent(source.id) + "/content" + (source.page ? "#page=" + source.page : "");
  if (source.source_type === "local" || source.source_type === "upload") return original;
  if (typeof source.uri === "string" && /^https:\/\//i.test(source.uri)) return source.uri;
  if (source.id) return original;
  return null;
}

/* A passage as nodes, the sentence an answer rests on marked (plain text otherwise: never parsed as HTML). */
export function withQuote(passage, quote) {
  const at = quote ? passage.indexOf(quote) : -1;
  if (at < 0) return [passage];
  return [passage.slice(0, at), el("mark", { class: "source-quote", text: quote }), passage.slice(at + quote.length)];
}

export function splitGroups(text) {
  return String(text || "")
    .split(/[,\n]/)
    .map((g) => g.trim())
    .filter(Boolean);
}

async function logout() {
  try {
    await api("POST", "/api/v1/auth/logout");
  } catch (_) {
    /* the session may already be gone; either way, go to the login page */
  }
  location.assign("/login");
}

document.addEventListener("click", (event) => {
  const target = event.target.closest('[data-action="logout"]');
  if (target) {
    event.preventDefault();
    logout();
  }
});

/* Dialogs close with their [data-close] buttons. */
document.addEventListener("click", (event) => {
  const closer = event.target.closest("[data-close]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
  }
});

for (const node of document.querySelectorAll("time[data-relative]")) {
  node.title = formatDate(node.getAttribute("datetime"));
  node.textContent = relativeTime(node.getAttribute("datetime"));
}
