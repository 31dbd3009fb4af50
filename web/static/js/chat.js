/* The chat page: opens a conversation (by address, link or history), asks questions and streams
 * their answers into the thread. The sidebar is chat-history.js, one exchange is chat-render.js,
 * the streaming request is chat-stream.js.
 */
import { api, toast } from "./common.js";
import { ConversationList, narrow, setSidebar } from "./chat-history.js";
import { AnswerView, userMessage } from "./chat-render.js";
import { askStreaming } from "./chat-stream.js";

const app = document.getElementById("app");
const thread = document.getElementById("thread");
const scroller = document.getElementById("scroller");
const welcome = document.getElementById("welcome");
const form = document.getElementById("composer");
const input = document.getElementById("question");
const sendButton = document.getElementById("send");
const stopButton = document.getElementById("stop");
const title = document.getElementById("chat-title");

const state = {
  conversationId: app.dataset.conversationId || null,
  streaming: null, // the AbortController of the answer being streamed
};

const conversations = new ConversationList({
  currentId: () => state.conversationId,
  onOpen: (id) => openConversation(id, true),
  onCurrentDeleted: () => startNew(true),
  onTitle: setTitle,
});

function setTitle(text) {
  title.textContent = text || "New chat";
  document.title = (text || "Chat") + " · Enclave";
}

function stopStreaming() {
  if (state.streaming) state.streaming.abort();
}

function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
}

function scrollToBottom(force) {
  if (force || nearBottom()) scroller.scrollTop = scroller.scrollHeight;
}

function answerView(question) {
  return new AnswerView(question, { onRegenerate: ask, onGrow: () => scrollToBottom(false) });
}

// ---------------------------------------------------------------- which conversation

function startNew(push) {
  stopStreaming();
  state.conversationId = null;
  thread.replaceChildren(welcome);
  welcome.hidden = false;
  setTitle("");
  if (push && location.pathname !== "/") history.pushState({}, "", "/");
  conversations.render();
}

async function openConversation(id, push) {
  stopStreaming();
  let conversation;
  try {
    conversation = await api("GET", "/api/v1/conversations/" + encodeURIComponent(id));
  } catch (error) {
    if (error.status === 404) {
      toast("That conversation no longer exists.", "error");
      startNew(true);
      conversations.load();
    } else {
      toast("Could not open the conversation: " + error.message, "error");
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
      const view = answerView(question);
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
  conversations.render();
  scrollToBottom(true);
}

window.addEventListener("popstate", () => {
  const match = location.pathname.match(/^\/c\/([^/]+)$/);
  if (match) openConversation(decodeURIComponent(match[1]), false);
  else startNew(false);
});

document.getElementById("new-chat").addEventListener("click", () => {
  startNew(true);
  if (narrow.matches) setSidebar(false);
  input.focus();
});

// ---------------------------------------------------------------- asking

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
  const view = answerView(question);
  thread.append(view.root);
  view.startStreaming();
  scrollToBottom(true);
  const controller = new AbortController();
  state.streaming = controller;
  setBusy(true);
  const startedIn = state.conversationId;
  try {
    let finished = false;
    for await (const event of askStreaming(question, state.conversationId, controller.signal)) {
      if (event.name === "status") {
        view.status(event.data.text || "");
      } else if (event.name === "token") {
        view.append(event.data.text || "");
      } else if (event.name === "sources") {
        finished = true;
        view.finish(event.data);
        if (!startedIn && event.data.conversation_id) {
          state.conversationId = event.data.conversation_id;
          history.pushState({ id: state.conversationId }, "", "/c/" + encodeURIComponent(state.conversationId));
        }
        conversations.load();
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

conversations.load();
if (state.conversationId) openConversation(state.conversationId, false);
if (!narrow.matches) input.focus(); // on a phone, a keyboard popping up unasked hides half the page
