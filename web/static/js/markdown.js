/* Answers as safe HTML: Markdown (marked) -> sanitized DOM (DOMPurify) -> [n] citations and copy buttons.
 *
 * Model output and document text are untrusted. Three layers keep them inert:
 *  1. raw HTML in the Markdown is escaped by the renderer (shown as text, never parsed);
 *  2. DOMPurify then keeps only a short list of formatting tags and attributes, and
 *     only http(s), mailto, relative and #fragment links; images are never loaded
 *     (an image URL could carry data off the site, or call out of an offline network);
 *  3. the page's Content-Security-Policy forbids inline script and other origins anyway.
 *
 * render(text, sources) returns a DocumentFragment. With sources, each [n] becomes a link
 * that opens source n; without (while streaming), a marker.
 */
import { Marked } from "../vendor/marked/marked.esm.js";
import DOMPurify from "../vendor/dompurify/purify.es.mjs";
import { copyText, el, icon, sourceLink } from "./common.js";

function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const parser = new Marked({ gfm: true, breaks: true, async: false });
parser.use({
  renderer: {
    html(token) {
      return escapeHtml(token.text);
    },
    image(token) {
      return escapeHtml(token.text || "");
    },
  },
});

const ALLOWED_TAGS = [
  "a", "p", "br", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
  "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "span",
];
const purifier = DOMPurify(window);
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.hasAttribute && node.hasAttribute("class")) {
    // Only the language hint of fenced code survives; no styling hooks from content.
    const kept = node.getAttribute("class").split(/\s+/).filter((c) => /^language-[\w+#-]{1,30}$/.test(c));
    if (kept.length) node.setAttribute("class", kept.join(" "));
    else node.removeAttribute("class");
  }
});

function sanitize(html) {
  return purifier.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "title", "class", "start", "align"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|\/(?!\/)|#)/i,
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
}

const CITATION = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/* Replace [n] / [n, m] in text nodes (outside code and links) with citation links. */
function linkCitations(root, sources) {
  const byNumber = new Map((sources || []).map((s) => [Number(s.n), s]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      if (node.parentElement && node.parentElement.closest("code, pre, a")) return NodeFilter.FILTER_REJECT;
      CITATION.lastIndex = 0;
      return CITATION.test(node.nodeValue) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
    },
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    const pieces = [];
    let last = 0;
    CITATION.lastIndex = 0;
    let match;
    while ((match = CITATION.exec(text))) {
      pieces.push(text.slice(last, match.index));
      const numbers = match[1].split(",").map((n) => Number(n.trim()));
      const group = el("span", { class: "cite-group" });
      numbers.forEach((n) => group.append(citation(n, byNumber, sources)));
      pieces.push(group);
      last = match.index + match[0].length;
    }
    pieces.push(text.slice(last));
    node.replaceWith(...pieces.filter((p) => p !== ""));
  }
}

function citation(n, byNumber, sources) {
  const source = byNumber.get(n);
  if (!sources) return el("span", { class: "cite cite-pending", text: String(n), "aria-label": "source " + n });
  if (!source) return el("span", { class: "cite cite-unknown", text: String(n), title: "No source " + n });
  const href = sourceLink(source);
  const label = "Source " + n + ": " + source.title;
  if (!href) return el("span", { class: "cite", text: String(n), title: label, "data-source": String(n) });
  return el("a", {
    class: "cite",
    href,
    target: "_blank",
    rel: "noopener noreferrer",
    title: label,
    "aria-label": label,
    "data-source": String(n),
    text: String(n),
  });
}

/* Each code block gets a copy button. */
function addCopyButtons(root) {
  for (const pre of root.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const lang = code && (code.className.match(/language-([\w+#-]+)/) || [])[1];
    const copy = el("button", { type: "button", class: "code-copy", title: "Copy code" }, icon("copy"), el("span", { text: "Copy" }));
    copy.addEventListener("click", async () => {
      const ok = await copyText((code || pre).textContent);
      copy.lastChild.textContent = ok ? "Copied" : "Copy failed";
      copy.replaceChild(icon(ok ? "check" : "alert"), copy.firstChild);
      setTimeout(() => {
        copy.lastChild.textContent = "Copy";
        copy.replaceChild(icon("copy"), copy.firstChild);
      }, 1600);
    });
    const head = el("div", { class: "code-head" }, el("span", { class: "code-lang", text: lang || "code" }), copy);
    const block = el("div", { class: "code-block" });
    pre.replaceWith(block);
    block.append(head, pre);
  }
}

export function render(text, sources) {
  const fragment = sanitize(parser.parse(String(text || "")));
  linkCitations(fragment, sources);
  addCopyButtons(fragment);
  return fragment;
}
