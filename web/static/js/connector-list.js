/* The connectors as cards: state, live sync progress, facts, and their buttons (sync now, pause,
 * edit, history, delete). The list refreshes itself every few seconds while anything syncs.
 */
import { api, button, confirmAction, el, icon, timeElement, toast } from "./common.js";
import { typeIcon } from "./connector-types.js";

const listNode = document.getElementById("connector-list");
const emptyNode = document.getElementById("connectors-empty");
const statusNode = document.getElementById("connectors-status");

const SYNC_POLL_MS = 2000;
const IDLE_POLL_MS = 15000;

const STATES = {
  idle: { label: "Up to date", icon: "check", tone: "ok" },
  syncing: { label: "Syncing", icon: "sync", tone: "info" },
  warning: { label: "Synced with warnings", icon: "alert", tone: "warn" },
  error: { label: "Error", icon: "alert", tone: "error" },
  paused: { label: "Paused", icon: "pause", tone: null },
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
    ["skipped", progress.skipped],
  ];
  return el("div", { class: "progress" + (syncing ? " progress-live" : ""), "data-progress": "" },
    el("span", {}, el("strong", { text: syncing ? "Now: " : "Last sync: " }), progress.phase || ""),
    numbers.map(([name, value]) => el("span", { "data-count": name }, el("strong", { text: String(value ?? 0) }), " " + name)),
    progress.per_minute == null ? null : el("span", { "data-rate": "" }, el("strong", { text: String(progress.per_minute) }), " per minute"));
}

function nextSync(connector, syncing) {
  if (connector.paused) return el("span", { class: "muted", text: "paused" });
  if (connector.next_sync_at) return timeElement(connector.next_sync_at, true);
  return el("span", { class: "muted", text: syncing ? "after this one" : "not scheduled" });
}

function stateOf(connector) {
  if (connector.state === "idle" && !connector.last_sync_at && !connector.progress) {
    return { label: "Waiting for first sync", icon: "sync", tone: "ok" };
  }
  return STATES[connector.state] || { label: connector.state, icon: "info", tone: null };
}

export class ConnectorList {
  /* onEdit(connector) and onHistory(connector) open the dialogs for those buttons. */
  constructor({ onEdit, onHistory }) {
    this.onEdit = onEdit;
    this.onHistory = onHistory;
    this.connectors = [];
    this.pollTimer = null;
    this.fastUntil = 0;
  }

  /* Say what went wrong above the list (it stays as it was). */
  showProblem(message) {
    statusNode.textContent = message;
    statusNode.hidden = false;
  }

  /* Poll quickly for a while: a sync was just started. */
  pollFast(ms) {
    this.fastUntil = Date.now() + ms;
  }

  async refresh() {
    clearTimeout(this.pollTimer);
    try {
      this.connectors = await api("GET", "/api/v1/connectors");
      statusNode.hidden = true;
      this.render();
    } catch (error) {
      this.showProblem("Could not load the connectors: " + error.message);
    }
    const busy = this.connectors.some((c) => c.state === "syncing") || Date.now() < this.fastUntil;
    this.pollTimer = setTimeout(() => this.refresh(), busy ? SYNC_POLL_MS : IDLE_POLL_MS);
  }

  render() {
    listNode.setAttribute("aria-busy", "false");
    emptyNode.hidden = this.connectors.length > 0;
    // Keep focus where it was across refreshes.
    const focusedCard = listNode.contains(document.activeElement) ? document.activeElement.closest("[data-connector]") : null;
    const focused = focusedCard
      ? [focusedCard.dataset.connector, Array.from(focusedCard.querySelectorAll("button")).indexOf(document.activeElement)]
      : null;
    listNode.replaceChildren(...this.connectors.map((c) => this.card(c)));
    if (focused) {
      const card = listNode.querySelector('[data-connector="' + focused[0] + '"]');
      const buttons = card ? card.querySelectorAll("button") : [];
      if (buttons[focused[1]] && !buttons[focused[1]].disabled) buttons[focused[1]].focus();
    }
  }

  card(connector) {
    const state = stateOf(connector);
    const syncing = connector.state === "syncing";
    const syncNow = button("Sync now", "sync", { class: "btn btn-secondary btn-small", disabled: syncing });
    const pause = button(connector.paused ? "Resume" : "Pause", connector.paused ? "play" : "pause", { class: "btn btn-secondary btn-small" });
    const edit = button("Edit", "pencil", { class: "btn btn-secondary btn-small" });
    const history = button("History", "book", { class: "btn btn-ghost btn-small" });
    const remove = button("Delete", "trash", { class: "btn btn-ghost btn-small" });
    syncNow.addEventListener("click", () => this.sync(connector));
    pause.addEventListener("click", () => this.togglePause(connector));
    edit.addEventListener("click", () => this.onEdit(connector));
    history.addEventListener("click", () => this.onHistory(connector));
    remove.addEventListener("click", () => this.remove(connector));
    const place = where(connector);
    return el("li", { class: "connector", "data-connector": String(connector.id), "data-state": connector.state, "aria-labelledby": "connector-" + connector.id },
      el("div", { class: "connector-head" },
        el("span", { class: "connector-icon" }, icon(typeIcon(connector.type))),
        el("div", { class: "connector-name" },
          el("h2", { id: "connector-" + connector.id, text: connector.name }),
          el("p", { text: connector.label + (place ? " · " + place : "") })),
        el("span", { class: "badge" + (state.tone ? " badge--" + state.tone : ""), "data-state-label": "" }, icon(state.icon), state.label)),
      progressLine(connector.progress, syncing),
      connector.last_error ? el("div", { class: "connector-error alert alert--error", role: "note" }, el("strong", { text: "Last error: " }), connector.last_error) : null,
      (connector.warnings || []).length ? el("div", { class: "connector-warnings alert alert--warn", role: "note" },
        el("strong", { text: "The last sync warns: " }), el("ul", {}, connector.warnings.map((w) => el("li", { text: w })))) : null,
      el("dl", { class: "connector-facts" },
        fact("Documents", String(connector.documents)),
        fact("Last sync", timeElement(connector.last_sync_at, true)),
        fact("Next sync", nextSync(connector, syncing)),
        fact("Schedule", "every " + connector.schedule_minutes + " min")),
      el("div", { class: "connector-actions" }, syncNow, pause, edit, history, remove));
  }

  async sync(connector) {
    try {
      await api("POST", "/api/v1/connectors/" + connector.id + "/sync", {});
      toast("Sync of “" + connector.name + "” started");
      this.pollFast(10000);
      this.refresh();
    } catch (error) {
      toast("Could not start the sync: " + error.message, "error");
    }
  }

  async togglePause(connector) {
    try {
      await api("PATCH", "/api/v1/connectors/" + connector.id, { paused: !connector.paused });
      toast((connector.paused ? "Resumed “" : "Paused “") + connector.name + "”");
      this.refresh();
    } catch (error) {
      toast("Could not change it: " + error.message, "error");
    }
  }

  async remove(connector) {
    const count = connector.documents === 1 ? "its 1 document" : "its " + connector.documents + " documents";
    const yes = await confirmAction({
      title: "Delete “" + connector.name + "”?",
      message: "The connector and " + count + " will be removed from Enclave. The originals in the source are not touched.",
      confirm: "Delete connector and documents",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/connectors/" + connector.id);
      toast("Deleted “" + connector.name + "”");
      this.refresh();
    } catch (error) {
      toast("Could not delete: " + error.message, "error");
    }
  }
}
