/* Admin: rated answers with their question, answer (rendered safely), sources and comment. */
"use strict";

(function () {
  const E = window.Enclave;
  const { el, icon, api } = E;

  const list = document.getElementById("feedback-list");
  const empty = document.getElementById("feedback-empty");
  const rating = document.getElementById("feedback-rating");

  function item(entry) {
    const up = entry.rating === "up";
    const sources = (entry.sources || []).map((source) => {
      const kind = E.sourceKind(source.source_type);
      const href = E.sourceLink(source);
      return el("li", {}, el("span", { class: "source-n", text: String(source.n) }), icon(kind.icon),
        href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: source.title }) : el("span", { text: source.title }));
    });
    const answer = el("div", { class: "feedback-answer markdown" });
    answer.append(E.markdown.render(entry.answer, entry.sources));
    return el("li", { class: "feedback-item", "data-rating": entry.rating, "data-message": entry.message_id },
      el("div", { class: "feedback-meta" },
        el("span", { class: "badge " + (up ? "badge-ok" : "badge-error") }, icon(up ? "thumbs-up" : "thumbs-down"), up ? "Helpful" : "Not helpful"),
        el("span", { text: entry.user_email }),
        E.timeElement(entry.created_at, false)),
      el("h2", { class: "feedback-question", text: entry.question || "(question not found)" }),
      answer,
      sources.length ? el("ul", { class: "feedback-sources", "aria-label": "Sources" }, sources) : null,
      entry.comment ? el("blockquote", { class: "feedback-comment", text: entry.comment }) : el("p", { class: "muted small", text: "No comment." }));
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    let entries;
    try {
      entries = await api("GET", "/api/v1/feedback" + (rating.value ? "?rating=" + rating.value : ""));
    } catch (error) {
      E.toast("Could not load feedback: " + error.message, "error");
      return;
    }
    list.replaceChildren(...entries.map(item));
    list.setAttribute("aria-busy", "false");
    empty.hidden = entries.length > 0;
  }

  rating.addEventListener("change", load);
  document.getElementById("feedback-filter").addEventListener("submit", (event) => event.preventDefault());
  load();
})();
