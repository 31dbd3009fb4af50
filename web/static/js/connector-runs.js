/* A connector's sync history: one entry per run, with its numbers, error and log. */
import { api, el, parseDate, timeElement } from "./common.js";

const runsDialog = document.getElementById("runs-dialog");
const runsList = document.getElementById("runs-list");
const runsTitle = document.getElementById("runs-dialog-title");

const RUN_TONES = { running: "info", succeeded: "ok", warning: "warn", failed: "error", deferred: "warn" };

export async function showRuns(connector) {
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
  runsList.replaceChildren(...runs.map(runEntry));
}

function runEntry(run) {
  const tone = RUN_TONES[run.status];
  return el("div", { class: "run" },
    el("div", { class: "run-head" },
      el("span", { class: "badge" + (tone ? " badge--" + tone : ""), text: run.status }),
      el("span", { text: run.full ? "Full sync" : "Changes" }),
      el("span", { class: "muted" }, timeElement(run.started_at, false)),
      run.finished_at ? el("span", { class: "muted", text: "· took " + duration(run.started_at, run.finished_at) }) : null),
    el("p", { class: "run-numbers", text: [run.seen + " seen", run.indexed + " indexed", run.unchanged + " unchanged",
      run.failed + " failed", run.deleted + " deleted", (run.skipped || 0) + " skipped",
      "index holds " + (run.held ?? "?")].join(" · ") }),
    run.error ? el("p", { class: "error-text", text: run.error }) : null,
    (run.warnings || []).length ? el("ul", { class: "run-warnings alert alert--warn" },
      run.warnings.map((warning) => el("li", { text: warning }))) : null,
    run.log && run.log.length ? el("details", {}, el("summary", { text: "Log (" + run.log.length + " lines)" }),
      el("pre", { class: "run-log", text: run.log.join("\n") })) : null);
}

function duration(start, end) {
  const seconds = Math.max(0, Math.round((parseDate(end) - parseDate(start)) / 1000));
  return seconds < 60 ? seconds + " s" : Math.round(seconds / 60) + " min";
}
