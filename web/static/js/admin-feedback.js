/* Admin: rated answers with their question, answer (rendered safely), sources and comment. */
import { api, el, icon, sourceKind, sourceLink, timeElement, toast } from "./common.js";
import { render } from "./markdown.js";

const list = document.getElementById("feedback-list");
const empty = document.getElementById("feedback-empty");
const rating = document.getElementById("feedback-rating");

function item(entry) {
  const up = entry.rating === "up";
  const sources = (entry.sources || []).map((source) => {
    const kind = sourceKind(source.source_type);
    const href = sourceLink(source);
    return el("li", {}, el("span", { class: "source-n", text: String(source.n) }), icon(kind.icon),
      href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: source.title }) : el("span", { text: source.title }));
  });
  const answer = el("div", { class: "feedback-answer markdown" });
  answer.append(render(entry.answer, entry.sources));
  return el("li", { class: "feedback-item", "data-rating": entry.rating, "data-message": entry.message_id },
    el("div", { class: "feedback-meta" },
      el("span", { class: "badge " + (up ? "badge--ok" : "badge--error") }, icon(up ? "thumbs-up" : "thumbs-down"), up ? "Helpful" : "Not helpful"),
      el("span", { text: entry.user_email }),
      timeElement(entry.created_at, false)),
    el("h2", { class: "feedback-question", text: entry.question || "(question not found)" }),
    answer,
    sources.length ? el("ul", { class: "feedback-sources", "aria-label": "Sources" }, sources) : null,
    entry.provenance ? provenance(entry.provenance) : null,
    entry.comment ? el("blockquote", { class: "feedback-comment", text: entry.comment }) : el("p", { class: "muted small", text: "No comment." }));
}

/* How the answer was made: what the model read, which sentence it rests on, and what the check found. */
function provenance(p) {
  const model = p.model ? p.model.name + (p.model.sha256 ? " (sha256 " + p.model.sha256.slice(0, 12) + "…)" : "") : "no model ran";
  const verdict = Object.entries(p.verdict || {}).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : v)).join("; ");
  const evidence = (p.evidence || []).map((s) =>
    el("li", { class: s.cited ? "evidence-cited" : null }, el("span", { class: "muted small", text: s.score.toFixed(2) + " " }), s.text));
  const retrieved = (p.retrieved || []).map((r) =>
    el("li", { text: r.chunk_id + " — cosine " + r.score + (r.fused === null ? "" : ", hybrid " + r.fused) }));
  return el("details", { class: "feedback-provenance" },
    el("summary", { text: "How this answer was made: " + p.outcome.replace("_", " ") }),
    el("dl", {},
      el("dt", { text: "Model" }), el("dd", { text: model }),
      el("dt", { text: "Prompts" }), el("dd", { text: p.prompt_version }),
      el("dt", { text: "Check" }), el("dd", { text: verdict || "–" }),
      el("dt", { text: "Evidence" }), el("dd", {}, el("ol", {}, evidence)),
      el("dt", { text: "Chunks read" }), el("dd", {}, el("ul", {}, retrieved))));
}

async function load() {
  list.setAttribute("aria-busy", "true");
  let entries;
  try {
    entries = await api("GET", "/api/v1/feedback" + (rating.value ? "?rating=" + rating.value : ""));
  } catch (error) {
    toast("Could not load feedback: " + error.message, "error");
    return;
  }
  list.replaceChildren(...entries.map(item));
  list.setAttribute("aria-busy", "false");
  empty.hidden = entries.length > 0;
}

rating.addEventListener("change", load);
document.getElementById("feedback-filter").addEventListener("submit", (event) => event.preventDefault());
load();
