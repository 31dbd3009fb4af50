/* The chat: conversations in the sidebar, answers streamed token by token, sources, feedback.
 *
 * Answers come from POST /api/v1/ask with stream:true as Server-Sent Events read through
 * fetch + ReadableStream: `token` events ({text}), then `sources` (the full AskResponse, whose
 * `answer` is authoritative and replaces what streamed), then `done`; or `error`.
 * Stopping aborts the fetch; the server then stops generating and frees the model.
 */
"use strict";

(function () {
  const E = window.Enclave;
  const { el, icon, api } = E;

  const app = document.getElementById("app");
  const thread = document.getElementById("thread");
  const scroller = document.getElementById("scroller");
  const welcome = document.getElementById("welcome");
  const form = document.getElementById("composer");
  const input = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const list = document.getElementById("conversation-list");
  const listEmpty = document.getElementById("conversation-empty");
  const search = document.getElementById("conversation-search");
  const title = document.getElementById("chat-title");
  const sidebar = document.getElementById("sidebar");
  const backdrop = document.getElementById("backdrop");
  const openSidebarButton = document.getElementById("sidebar-open");
  const closeSidebarButton = document.getElementById("sidebar-close");

  const state = {
    conversationId: app.dataset.conversationId || null,
    conversations: [],
    streaming: null, // {controller, view}
    query: "",
  };

  // ---------------------------------------------------------------- sidebar

  const narrow = window.matchMedia("(max-width: 860px)");

  function setSidebar(open) {
    app.classList.toggle("drawer-open", open);
    backdrop.hidden = !open;
    openSidebarButton.setAttribute("aria-expanded", String(open));
    if (open) {
      document.getElementById("new-chat").focus(); // into the drawer, without popping up a phone keyboard
    } else if (narrow.matches && sidebar.contains(document.activeElement)) {
      openSidebarButton.focus();
    }
  }

  openSidebarButton.addEventListener("click", () => setSidebar(true));
  closeSidebarButton.addEventListener("click", () => setSidebar(false));
  backdrop.addEventListener("click", () => setSidebar(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && app.classList.contains("drawer-open")) setSidebar(false);
  });

  async function loadConversations() {
    let items;
    try {
      const query = state.query ? "?q=" + encodeURIComponent(state.query) : "";
      items = await api("GET", "/api/v1/conversations" + query);
    } catch (error) {
      E.toast("Could not load your conversations: " + error.message, "error");
      return;
    }
    state.conversations = items;
    renderConversationList();
  }

  function renderConversationList() {
    list.replaceChildren(...state.conversations.map(conversationItem));
    listEmpty.hidden = state.conversations.length > 0;
    listEmpty.textContent = state.query ? "No conversation titles match." : "No conversations yet.";
    const current = state.conversations.find((c) => c.id === state.conversationId);
    if (current) setTitle(current.title);
  }

  function conversationItem(conversation) {
    const active = conversation.id === state.conversationId;
    const link = el("a", {
      class: "conversation-link",
      href: "/c/" + encodeURIComponent(conversation.id),
      "aria-current": active ? "page" : null,
      title: conversation.title,
      text: conversation.title,
    });
    link.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      openConversation(conversation.id, true);
      if (narrow.matches) setSidebar(false);
    });
    const rename = E.button("Rename “" + conversation.title + "”", "pencil", { class: "conversation-rename" }, true);
    const remove = E.button("Delete “" + conversation.title + "”", "trash", { class: "conversation-delete" }, true);
    const item = el("li", { class: "conversation-item" + (active ? " active" : ""), dataset: { id: conversation.id } }, link,
      el("div", { class: "conversation-actions" }, rename, remove));
    rename.addEventListener("click", () => startRename(item, conversation));
    remove.addEventListener("click", () => deleteConversation(conversation));
    return item;
  }

  function startRename(item, conversation) {
    const field = el("input", { type: "text", class: "conversation-title-input", maxlength: 255, "aria-label": "New title" });
    field.value = conversation.title;
    const renameForm = el("form", { class: "conversation-rename-form" }, field);
    item.replaceChildren(renameForm);
    field.focus();
    field.select();
    let finished = false;
    const finish = async (save) => {
      if (finished) return;
      finished = true;
      const value = field.value.trim();
      if (save && value && value !== conversation.title) {
        try {
          await api("PATCH", "/api/v1/conversations/" + encodeURIComponent(conversation.id), { title: value });
          conversation.title = value;
          E.toast("Renamed");
        } catch (error) {
          E.toast("Could not rename: " + error.message, "error");
        }
      }
      renderConversationList();
      const again = list.querySelector('[data-id="' + CSS.escape(conversation.id) + '"] .conversation-rename');
      if (again) again.focus();
    };
    renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      finish(true);
    });
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    field.addEventListener("blur", () => finish(true));
  }

  async function deleteConversation(conversation) {
    const yes = await E.confirm({
      title: "Delete this conversation?",
      message: "“" + conversation.title + "” and all its messages will be deleted. This cannot be undone.",
      confirm: "Delete",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/conversations/" + encodeURIComponent(conversation.id));
    } catch (error) {
      E.toast("Could not delete: " + error.message, "error");
      return;
    }
    E.toast("Conversation deleted");
    if (conversation.id === state.conversationId) startNew(true);
    await loadConversations();
  }

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.query = search.value.trim();
      loadConversations();
    }, 200);
  });

  document.getElementById("new-chat").addEventListener("click", () => {
    startNew(true);
    if (narrow.matches) setSidebar(false);
    input.focus();
  });

  // ---------------------------------------------------------------- conversation view

  function setTitle(text) {
    title.textContent = text || "New chat";
    document.title = (text || "Chat") + " · Enclave";
  }

  function stopStreaming() {
    if (state.streaming) state.streaming.controller.abort();
  }

  function startNew(push) {
    stopStreaming();
    state.conversationId = null;
    thread.replaceChildren(welcome);
    welcome.hidden = false;
    setTitle("");
    if (push && location.pathname !== "/") history.pushState({}, "", "/");
    renderConversationList();
  }

  async function openConversation(id, push) {
    stopStreaming();
    let conversation;
    try {
      conversation = await api("GET", "/api/v1/conversations/" + encodeURIComponent(id));
    } catch (error) {
      if (error.status === 404) {
        E.toast("That conversation no longer exists.", "error");
        startNew(true);
        loadConversations();
      } else {
        E.toast("Could not open the conversation: " + error.message, "error");
      }
      return;
    }
    state.conversationId = conversation.id;
    if (push) history.pushState({ id: conversation.id }, "", "/c/" + encodeURIComponent(conversation.id));
    setTitle(conversation.title);
    welcome.hidden = true;
    const nodes = [];
    let question = "";
    const messages = conversation.messages;
    messages.forEach((message, index) => {
      if (message.role === "user") {
        question = message.content;
        nodes.push(userMessage(message.content));
      } else {
        const view = new AnswerView(question);
        view.finish({
          answer: message.content,
          sources: message.sources || [],
          message_id: message.id,
          // Only an answer that found nothing is stored without sources (see assistant/rag.py).
          found_nothing: !(message.sources && message.sources.length),
        });
        if (message.rating) view.showRating(message.rating);
        view.setLatest(index === messages.length - 1);
        nodes.push(view.root);
      }
    });
    thread.replaceChildren(welcome, ...nodes);
    renderConversationList();
    scrollToBottom(true);
  }

  window.addEventListener("popstate", () => {
    const match = location.pathname.match(/^\/c\/([^/]+)$/);
    if (match) openConversation(decodeURIComponent(match[1]), false);
    else startNew(false);
  });

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  function scrollToBottom(force) {
    if (force || nearBottom()) scroller.scrollTop = scroller.scrollHeight;
  }

  function userMessage(text) {
    return el("article", { class: "msg msg-user", "aria-label": "Your question" }, el("div", { class: "bubble", text }));
  }

  // ---------------------------------------------------------------- one answer

  class AnswerView {
    constructor(question) {
      this.question = question;
      this.text = "";
      this.messageId = null;
      this.answer = el("div", { class: "answer markdown", "aria-live": "polite", "aria-busy": "false" });
      this.typing = el("div", { class: "typing", "aria-label": "Enclave is thinking", role: "status" },
        el("span"), el("span"), el("span"));
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

    append(text) {
      this.text += text;
      this.typing.hidden = true;
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.answer.replaceChildren(E.markdown.render(this.text, null));
        scrollToBottom(false);
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
        this.notice.className = "msg-notice nothing-found";
        this.notice.setAttribute("role", "status");
        this.notice.replaceChildren(icon("search"), el("div", {},
          el("strong", { text: "Nothing found" }), el("p", { text: this.text })));
        this.notice.hidden = false;
        this.sources.hidden = true;
      } else {
        this.answer.hidden = false;
        this.answer.replaceChildren(E.markdown.render(this.text, data.sources));
        this.renderSources(data.sources || []);
      }
      this.renderActions({ copy: !data.found_nothing, rate: !data.found_nothing });
    }

    fail(message, retryable) {
      this.endStreaming();
      this.notice.className = "msg-notice msg-error";
      this.notice.setAttribute("role", "alert");
      this.notice.replaceChildren(icon("alert"), el("span", { text: message }));
      this.notice.hidden = false;
      if (!this.text) this.answer.hidden = true;
      this.renderActions({ copy: Boolean(this.text), rate: false, latest: retryable });
    }

    stopped() {
      this.endStreaming();
      if (this.text) this.answer.replaceChildren(E.markdown.render(this.text, null));
      this.notice.className = "msg-notice msg-stopped";
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
        const kind = E.sourceKind(source.source_type);
        const href = E.sourceLink(source);
        const titleNode = href
          ? el("a", { class: "source-title", href, target: "_blank", rel: "noopener noreferrer", text: source.title || "Untitled" })
          : el("span", { class: "source-title", text: source.title || "Untitled" });
        return el("li", { class: "source", dataset: { n: String(source.n) } },
          el("div", { class: "source-head" },
            el("span", { class: "source-n", text: String(source.n), "aria-label": "Source " + source.n }),
            titleNode,
            href ? el("span", { class: "source-open", "aria-hidden": "true" }, icon("external")) : null),
          el("div", { class: "source-kind" }, icon(kind.icon), el("span", { text: kind.label })),
          source.snippet ? el("p", { class: "source-snippet" }, E.withQuote(source.snippet, source.quote)) : null);
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
        const copyButton = E.button("Copy answer", "copy", { class: "action-copy" }, true);
        copyButton.addEventListener("click", async () => {
          const ok = await E.copyText(this.text);
          E.toast(ok ? "Answer copied" : "Could not copy", ok ? "info" : "error");
        });
        buttons.push(copyButton);
      }
      this.regenerate = E.button("Regenerate: ask the same question again", "refresh", { class: "action-regenerate" }, true);
      this.regenerate.addEventListener("click", () => ask(this.question));
      buttons.push(this.regenerate);
      if (rate && this.messageId) {
        this.up = E.button("Good answer", "thumbs-up", { class: "action-up", "aria-pressed": "false" }, true);
        this.down = E.button("Bad answer", "thumbs-down", { class: "action-down", "aria-pressed": "false" }, true);
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
        E.toast("Could not save your rating: " + error.message, "error");
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
        E.toast("Thanks for the feedback");
        (rating === "up" ? this.up : this.down).focus();
      };
      skip.onclick = () => {
        this.feedback.hidden = true;
        (rating === "up" ? this.up : this.down).focus();
      };
      area.focus();
    }
  }

  // ---------------------------------------------------------------- asking

  async function* serverSentEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        let name = "message";
        const data = [];
        for (const line of raw.split(/\r?\n/)) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        yield { name, data: data.length ? JSON.parse(data.join("\n")) : {} };
      }
    }
  }

  function setBusy(busy) {
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
    form.classList.toggle("busy", busy);
  }

  async function ask(question) {
    question = question.trim();
    if (!question || state.streaming) return;
    welcome.hidden = true;
    for (const old of thread.querySelectorAll(".action-regenerate")) old.hidden = true;
    thread.append(userMessage(question));
    const view = new AnswerView(question);
    thread.append(view.root);
    view.startStreaming();
    scrollToBottom(true);
    const controller = new AbortController();
    state.streaming = { controller, view };
    setBusy(true);
    const startedIn = state.conversationId;
    try {
      const body = { question, stream: true };
      if (state.conversationId) body.conversation_id = state.conversationId;
      const response = await fetch("/api/v1/ask", {
        method: "POST",
        credentials: "same-origin",
        headers: E.headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (response.status === 503) {
        const wait = response.headers.get("Retry-After");
        view.fail("Enclave is busy answering other questions." + (wait ? " Try again in " + wait + " seconds." : " Try again shortly."), true);
        return;
      }
      await E.checkResponse(response);
      let finished = false;
      for await (const event of serverSentEvents(response)) {
        if (event.name === "token") {
          view.append(event.data.text || "");
        } else if (event.name === "sources") {
          finished = true;
          view.finish(event.data);
          if (!startedIn && event.data.conversation_id) {
            state.conversationId = event.data.conversation_id;
            history.pushState({ id: state.conversationId }, "", "/c/" + encodeURIComponent(state.conversationId));
          }
          loadConversations();
        } else if (event.name === "error") {
          finished = true;
          view.fail(event.data.detail || "The answer could not be generated.", true);
        }
      }
      if (!finished) view.fail("The connection ended before the answer was complete.", true);
    } catch (error) {
      if (error.name === "AbortError") view.stopped();
      else view.fail(error.message || "Something went wrong.", true);
    } finally {
      state.streaming = null;
      setBusy(false);
      scrollToBottom(false);
      if (document.activeElement === stopButton || document.activeElement === document.body) input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    if (!question.trim() || state.streaming) return;
    input.value = "";
    autosize();
    ask(question);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 240) + "px";
  }
  input.addEventListener("input", autosize);

  stopButton.addEventListener("click", () => {
    stopStreaming();
    input.focus();
  });

  // ---------------------------------------------------------------- start

  loadConversations();
  if (state.conversationId) openConversation(state.conversationId, false);
  if (!narrow.matches) input.focus(); // on a phone, a keyboard popping up unasked hides half the page
})();
