/* One exchange in the thread: the question as asked, and the answer as it streams in and settles,
 * with its [n] citations, sources, copy and regenerate buttons, and the thumbs up/down feedback.
 */
import { api, button, copyText, el, icon, sourceKind, sourceLink, toast, withQuote } from "./common.js";
import { render } from "./markdown.js";

export function userMessage(text) {
  return el("article", { class: "msg msg-user", "aria-label": "Your question" }, el("div", { class: "bubble", text }));
}

export class AnswerView {
  /* onRegenerate(question) asks again; onGrow() runs after streamed text is drawn (to follow it down). */
  constructor(question, { onRegenerate, onGrow }) {
    this.question = question;
    this.onRegenerate = onRegenerate;
    this.onGrow = onGrow;
    this.text = "";
    this.messageId = null;
    this.answer = el("div", { class: "answer markdown", "aria-live": "polite", "aria-busy": "false" });
    this.step = el("span", { class: "typing-step" });
    this.typing = el("div", { class: "typing", "aria-label": "Enclave is thinking", role: "status" },
      el("span", { class: "typing-dot" }), el("span", { class: "typing-dot" }), el("span", { class: "typing-dot" }),
      this.step);
    this.typing.hidden = true;
    this.notice = el("div", { class: "msg-notice", hidden: true });
    this.sources = el("section", { class: "sources", hidden: true });
    this.actions = el("div", { class: "msg-actions", hidden: true });
    this.feedback = el("form", { class: "feedback-form", hidden: true });
    this.root = el("article", { class: "msg msg-assistant", "aria-label": "Answer" },
      el("div", { class: "msg-avatar", "aria-hidden": "true" }, icon("logo")),
      el("div", { class: "msg-main" }, this.typing, this.answer, this.notice, this.sources, this.actions, this.feedback));
    this.pending = false;
  }

  startStreaming() {
    this.typing.hidden = false;
    this.answer.setAttribute("aria-busy", "true");
    this.root.classList.add("streaming");
  }

  /* What the server is doing while nothing of the answer may be shown yet: it is checked first. */
  status(text) {
    this.step.textContent = text ? text + "…" : "";
  }

  append(text) {
    this.text += text;
    this.typing.hidden = true;
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      // The checked answer and its sources can arrive in one read: finish() has then drawn it with its
      // citations, which this plain draw must not overwrite.
      if (!this.root.classList.contains("streaming")) return;
      this.answer.replaceChildren(render(this.text, null));
      this.onGrow();
    });
  }

  endStreaming() {
    this.typing.hidden = true;
    this.answer.setAttribute("aria-busy", "false");
    this.root.classList.remove("streaming");
  }

  finish(data) {
    this.endStreaming();
    this.text = data.answer || "";
    this.messageId = data.message_id || null;
    this.root.dataset.messageId = this.messageId || "";
    if (data.found_nothing) {
      this.answer.replaceChildren();
      this.answer.hidden = true;
      this.root.classList.add("msg-nothing");
      this.notice.className = "msg-notice nothing-found alert alert--warn";
      this.notice.setAttribute("role", "status");
      this.notice.replaceChildren(icon("search"), el("div", {},
        el("strong", { text: "Nothing found" }), el("p", { text: this.text })));
      this.notice.hidden = false;
      this.sources.hidden = true;
    } else {
      this.answer.hidden = false;
      this.answer.replaceChildren(render(this.text, data.sources));
      this.renderSources(data.sources || []);
    }
    this.renderActions({ copy: !data.found_nothing, rate: !data.found_nothing });
  }

  fail(message, retryable) {
    this.endStreaming();
    this.notice.className = "msg-notice msg-error alert alert--error";
    this.notice.setAttribute("role", "alert");
    this.notice.replaceChildren(icon("alert"), el("span", { text: message }));
    this.notice.hidden = false;
    if (!this.text) this.answer.hidden = true;
    this.renderActions({ copy: Boolean(this.text), rate: false, latest: retryable });
  }

  stopped() {
    this.endStreaming();
    if (this.text) this.answer.replaceChildren(render(this.text, null));
    this.notice.className = "msg-notice msg-stopped alert";
    this.notice.setAttribute("role", "status");
    this.notice.replaceChildren(icon("stop"), el("span", { text: "Stopped. This partial answer was not saved." }));
    this.notice.hidden = false;
    this.renderActions({ copy: true, rate: false });
  }

  renderSources(sources) {
    if (!sources.length) {
      this.sources.hidden = true;
      return;
    }
    const headingId = "sources-" + (this.messageId || Math.random().toString(36).slice(2));
    const items = sources.map((source) => {
      const kind = sourceKind(source.source_type);
      const href = sourceLink(source);
      const titleNode = href
        ? el("a", { class: "source-title", href, target: "_blank", rel: "noopener noreferrer", text: source.title || "Untitled" })
        : el("span", { class: "source-title", text: source.title || "Untitled" });
      return el("li", { class: "source", dataset: { n: String(source.n) } },
        el("div", { class: "source-head" },
          el("span", { class: "source-n", text: String(source.n), "aria-label": "Source " + source.n }),
          titleNode,
          href ? el("span", { class: "source-open", "aria-hidden": "true" }, icon("external")) : null),
        el("div", { class: "source-kind" }, icon(kind.icon), el("span", { text: kind.label }),
          source.page ? el("span", { class: "source-page", text: "page " + source.page }) : null),
        source.snippet ? el("p", { class: "source-snippet" }, withQuote(source.snippet, source.quote)) : null);
    });
    this.sources.setAttribute("aria-labelledby", headingId);
    this.sources.replaceChildren(
      el("h2", { class: "sources-title", id: headingId }, icon("book"), el("span", { text: sources.length === 1 ? "1 source" : sources.length + " sources" })),
      el("ol", { class: "source-list" }, items));
    this.sources.hidden = false;
    // Pointing at [n] highlights source n.
    for (const cite of this.answer.querySelectorAll(".cite[data-source]")) {
      const target = this.sources.querySelector('.source[data-n="' + cite.dataset.source + '"]');
      if (!target) continue;
      const on = () => target.classList.add("highlight");
      const off = () => target.classList.remove("highlight");
      cite.addEventListener("mouseenter", on);
      cite.addEventListener("mouseleave", off);
      cite.addEventListener("focus", on);
      cite.addEventListener("blur", off);
    }
  }

  /* Copy (when there is text worth copying), regenerate (on the latest answer), and rating (saved answers). */
  renderActions({ copy, rate, latest }) {
    const buttons = [];
    if (copy && this.text) {
      const copyButton = button("Copy answer", "copy", { class: "action-copy" }, true);
      copyButton.addEventListener("click", async () => {
        const ok = await copyText(this.text);
        toast(ok ? "Answer copied" : "Could not copy", ok ? "info" : "error");
      });
      buttons.push(copyButton);
    }
    this.regenerate = button("Regenerate: ask the same question again", "refresh", { class: "action-regenerate" }, true);
    this.regenerate.addEventListener("click", () => this.onRegenerate(this.question));
    buttons.push(this.regenerate);
    if (rate && this.messageId) {
      this.up = button("Good answer", "thumbs-up", { class: "action-up", "aria-pressed": "false" }, true);
      this.down = button("Bad answer", "thumbs-down", { class: "action-down", "aria-pressed": "false" }, true);
      this.up.addEventListener("click", () => this.rate("up"));
      this.down.addEventListener("click", () => this.rate("down"));
      buttons.push(el("span", { class: "action-sep", "aria-hidden": "true" }), this.up, this.down);
    }
    this.actions.replaceChildren(...buttons);
    this.actions.hidden = false;
    this.setLatest(latest !== false);
  }

  setLatest(latest) {
    if (this.regenerate) this.regenerate.hidden = !latest;
  }

  showRating(rating) {
    if (!this.up) return;
    this.up.setAttribute("aria-pressed", String(rating === "up"));
    this.down.setAttribute("aria-pressed", String(rating === "down"));
  }

  async rate(rating, comment) {
    try {
      await api("POST", "/api/v1/messages/" + encodeURIComponent(this.messageId) + "/feedback", { rating, comment: comment || null });
    } catch (error) {
      toast("Could not save your rating: " + error.message, "error");
      return;
    }
    this.showRating(rating);
    if (comment === undefined) this.askComment(rating);
  }

  askComment(rating) {
    const id = "feedback-" + this.messageId;
    const area = el("textarea", { id, rows: 2, maxlength: 4000, class: "feedback-comment",
      placeholder: rating === "down" ? "What was wrong or missing?" : "What was helpful?" });
    const send = el("button", { type: "submit", class: "btn btn-primary btn-small", text: "Send feedback" });
    const skip = el("button", { type: "button", class: "btn btn-ghost btn-small", text: "No comment" });
    this.feedback.replaceChildren(
      el("label", { for: id, text: (rating === "down" ? "Thanks. Tell us what went wrong" : "Thanks. Anything to add") + " (optional)" }),
      area, el("div", { class: "feedback-buttons" }, skip, send));
    this.feedback.hidden = false;
    this.feedback.onsubmit = async (event) => {
      event.preventDefault();
      const comment = area.value.trim();
      if (comment) await this.rate(rating, comment);
      this.feedback.hidden = true;
      toast("Thanks for the feedback");
      (rating === "up" ? this.up : this.down).focus();
    };
    skip.onclick = () => {
      this.feedback.hidden = true;
      (rating === "up" ? this.up : this.down).focus();
    };
    area.focus();
  }
}
