/* The sidebar: your conversations (search by title, rename in place, delete), and on a narrow
 * screen the drawer it slides in as.
 */
import { api, button, confirmAction, el, toast } from "./common.js";

const list = document.getElementById("conversation-list");
const listEmpty = document.getElementById("conversation-empty");
const search = document.getElementById("conversation-search");
const app = document.getElementById("app");
const sidebar = document.getElementById("sidebar");
const backdrop = document.getElementById("backdrop");
const openButton = document.getElementById("sidebar-open");
const closeButton = document.getElementById("sidebar-close");
const newChatButton = document.getElementById("new-chat");

/* Below this width the sidebar is a drawer over the chat. */
export const narrow = window.matchMedia("(max-width: 860px)");

export function setSidebar(open) {
  app.classList.toggle("drawer-open", open);
  backdrop.hidden = !open;
  openButton.setAttribute("aria-expanded", String(open));
  if (open) {
    newChatButton.focus(); // into the drawer, without popping up a phone keyboard
  } else if (narrow.matches && sidebar.contains(document.activeElement)) {
    openButton.focus();
  }
}

openButton.addEventListener("click", () => setSidebar(true));
closeButton.addEventListener("click", () => setSidebar(false));
backdrop.addEventListener("click", () => setSidebar(false));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && app.classList.contains("drawer-open")) setSidebar(false);
});

/* The list of conversations. The chat tells it which one is open (currentId()) and hears back
 * through onOpen(id), onCurrentDeleted() and onTitle(title of the open one). */
export class ConversationList {
  constructor({ currentId, onOpen, onCurrentDeleted, onTitle }) {
    this.currentId = currentId;
    this.onOpen = onOpen;
    this.onCurrentDeleted = onCurrentDeleted;
    this.onTitle = onTitle;
    this.conversations = [];
    this.query = "";
    let searchTimer = null;
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        this.query = search.value.trim();
        this.load();
      }, 200);
    });
  }

  async load() {
    let items;
    try {
      const query = this.query ? "?q=" + encodeURIComponent(this.query) : "";
      items = await api("GET", "/api/v1/conversations" + query);
    } catch (error) {
      toast("Could not load your conversations: " + error.message, "error");
      return;
    }
    this.conversations = items;
    this.render();
  }

  render() {
    list.replaceChildren(...this.conversations.map((c) => this.item(c)));
    listEmpty.hidden = this.conversations.length > 0;
    listEmpty.textContent = this.query ? "No conversation titles match." : "No conversations yet.";
    const current = this.conversations.find((c) => c.id === this.currentId());
    if (current) this.onTitle(current.title);
  }

  item(conversation) {
    const active = conversation.id === this.currentId();
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
      this.onOpen(conversation.id);
      if (narrow.matches) setSidebar(false);
    });
    const rename = button("Rename “" + conversation.title + "”", "pencil", { class: "conversation-rename" }, true);
    const remove = button("Delete “" + conversation.title + "”", "trash", { class: "conversation-delete" }, true);
    const item = el("li", { class: "conversation-item" + (active ? " active" : ""), dataset: { id: conversation.id } }, link,
      el("div", { class: "conversation-actions" }, rename, remove));
    rename.addEventListener("click", () => this.startRename(item, conversation));
    remove.addEventListener("click", () => this.remove(conversation));
    return item;
  }

  startRename(item, conversation) {
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
          toast("Renamed");
        } catch (error) {
          toast("Could not rename: " + error.message, "error");
        }
      }
      this.render();
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

  async remove(conversation) {
    const yes = await confirmAction({
      title: "Delete this conversation?",
      message: "“" + conversation.title + "” and all its messages will be deleted. This cannot be undone.",
      confirm: "Delete",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/conversations/" + encodeURIComponent(conversation.id));
    } catch (error) {
      toast("Could not delete: " + error.message, "error");
      return;
    }
    toast("Conversation deleted");
    if (conversation.id === this.currentId()) this.onCurrentDeleted();
    await this.load();
  }
}
