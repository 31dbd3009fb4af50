/* Admin: documents. Upload by drag and drop (one request per file, with upload progress),
 * browse and filter what is indexed, delete. */
import { api, button, confirmAction, csrfToken, el, formatBytes, icon, sourceKind, splitGroups, timeElement, toast, toLogin } from "./common.js";

const dropzone = document.getElementById("dropzone");
const fileInput = document.getElementById("upload-files");
const groupsInput = document.getElementById("upload-groups");
const uploads = document.getElementById("upload-list");
const sourceSelect = document.getElementById("documents-source");
const queryInput = document.getElementById("documents-q");
const body = document.getElementById("documents-body");
const empty = document.getElementById("documents-empty");
const total = document.getElementById("documents-total");
const pageLabel = document.getElementById("documents-page");
const prev = document.getElementById("documents-prev");
const next = document.getElementById("documents-next");

const PAGE_SIZE = 25;
const params = new URLSearchParams(location.search);
const view = { source: params.get("source") || "", q: params.get("q") || "", page: 1, total: 0 };
const sourceNames = {};
queryInput.value = view.q;

// ---------------------------------------------------------------- upload

const OUTCOMES = {
  added: "Indexed",
  updated: "Updated (it replaced the earlier version)",
  unchanged: "Unchanged: already indexed",
};

function uploadFile(file, groups) {
  const progress = el("progress", { max: 100, value: 0, "aria-label": "Upload of " + file.name });
  const detail = el("span", { class: "upload-detail", text: "Waiting…" });
  const item = el("li", { class: "upload-item", "data-file": file.name }, icon("file"),
    el("span", { class: "upload-name", title: file.name, text: file.name }),
    el("span", { class: "muted small", text: formatBytes(file.size) }), progress, detail);
  uploads.prepend(item);
  return new Promise((resolve) => {
    const data = new FormData();
    data.append("files", file, file.name);
    if (groups) data.append("groups", groups);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/documents");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      progress.value = Math.round((event.loaded / event.total) * 100);
      detail.textContent = progress.value < 100 ? "Uploading… " + progress.value + "%" : "Reading and indexing…";
    });
    xhr.addEventListener("load", async () => {
      progress.value = 100;
      let result = null;
      try {
        result = JSON.parse(xhr.responseText);
      } catch (_) {
        result = null;
      }
      if (xhr.status === 401) toLogin();
      if (xhr.status >= 200 && xhr.status < 300 && Array.isArray(result) && result[0]) {
        let r = result[0];
        if (r.status === "queued") r = await followJob(r.job_id, detail);
        if (r.status === "failed") {
          finish(item, progress, detail, false, r.error || "Could not be indexed");
        } else {
          const chunks = r.chunks ? " · " + r.chunks + (r.chunks === 1 ? " chunk" : " chunks") : "";
          finish(item, progress, detail, true, (OUTCOMES[r.status] || r.status) + chunks);
        }
      } else {
        const message = result && result.detail ? (typeof result.detail === "string" ? result.detail : JSON.stringify(result.detail)) : "HTTP " + xhr.status;
        finish(item, progress, detail, false, message);
      }
      resolve();
    });
    xhr.addEventListener("error", () => {
      finish(item, progress, detail, false, "The upload was interrupted");
      resolve();
    });
    xhr.send(data);
  });
}

// A web replica queues the file for a worker: ask how its job goes until it is done.
async function followJob(jobId, detail) {
  detail.textContent = "Queued for indexing…";
  for (;;) {
    await new Promise((wake) => setTimeout(wake, 1000));
    let job;
    try {
      job = await api("GET", "/api/v1/jobs/" + jobId);
    } catch (error) {
      return { status: "failed", error: "Could not follow the indexing: " + error.message };
    }
    if (job.status === "running") detail.textContent = "Reading and indexing…";
    if (job.status === "done" || job.status === "failed") {
      return { status: job.status === "done" ? job.outcome : "failed", chunks: job.chunks, error: job.error };
    }
  }
}

function finish(item, progress, detail, ok, message) {
  progress.hidden = true;
  item.classList.add(ok ? "upload-item--ok" : "upload-item--error");
  item.dataset.result = ok ? "ok" : "failed";
  item.replaceChild(icon(ok ? "check" : "alert"), item.firstChild);
  detail.textContent = message;
}

async function uploadAll(files) {
  const list = Array.from(files);
  if (!list.length) return;
  const groups = splitGroups(groupsInput.value).join(",");
  // A few at a time: the server indexes each in turn anyway.
  const queue = list.slice();
  const workers = Array.from({ length: Math.min(3, queue.length) }, async () => {
    while (queue.length) await uploadFile(queue.shift(), groups);
  });
  await Promise.all(workers);
  const failed = list.filter((file) => {
    const item = uploads.querySelector('[data-file="' + CSS.escape(file.name) + '"]');
    return item && item.dataset.result === "failed";
  }).length;
  const done = list.length === 1 ? "Upload finished" : list.length + " uploads finished";
  toast(failed ? done + ", " + failed + " failed" : done, failed ? "error" : "info");
  await Promise.all([loadSources(), loadDocuments()]);
}

fileInput.addEventListener("change", () => {
  uploadAll(fileInput.files);
  fileInput.value = "";
});

for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragging");
  });
}
for (const name of ["dragleave", "drop"]) {
  dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.remove("dragging");
  });
}
dropzone.addEventListener("drop", (event) => {
  if (event.dataTransfer && event.dataTransfer.files) uploadAll(event.dataTransfer.files);
});
// Dropping a file elsewhere on the page must not navigate away from it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

// ---------------------------------------------------------------- browse

async function loadSources() {
  let overview;
  try {
    overview = await api("GET", "/api/v1/admin/overview");
  } catch (_) {
    return;
  }
  const options = [el("option", { value: "", text: "All sources" })];
  for (const s of overview.sources) {
    sourceNames[s.source] = s.name;
    options.push(el("option", { value: s.source, text: s.name + " (" + s.documents + ")" }));
  }
  if (view.source && !overview.sources.some((s) => s.source === view.source)) {
    options.push(el("option", { value: view.source, text: view.source }));
  }
  sourceSelect.replaceChildren(...options);
  sourceSelect.value = view.source;
}

function accessText(access) {
  if (!access || access.public) return "Everyone";
  const parts = [];
  if (access.groups && access.groups.length) parts.push("groups: " + access.groups.join(", "));
  if (access.users && access.users.length) parts.push(access.users.length === 1 ? "1 person" : access.users.length + " people");
  return parts.join("; ") || "Admins only";
}

function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

/* What was read: pages from the text layer and by OCR (with its confidence), tables, pages that could not be read. */
function readCell(read) {
  const cell = el("td", { class: "small document-read" });
  if (!read) return cell;
  if (read.pages == null) {
    cell.textContent = read.format;
    return cell;
  }
  const parts = [plural(read.pages, read.format === "image" ? "frame" : "page")];
  if (read.text_pages) parts.push(read.text_pages + " from text");
  if (read.ocr_pages) parts.push(read.ocr_pages + " by OCR (" + Math.round(read.ocr_confidence || 0) + "% confidence)");
  if (read.tables) parts.push(plural(read.tables, "table"));
  cell.append(parts.join(" · "));
  if (read.warnings && read.warnings.length) {
    cell.append(" ", el("span", { class: "badge badge--warn", title: read.warnings.join("\n") }, icon("alert"),
      plural(read.warnings.length, "page") + " not read"));
  }
  return cell;
}

function row(doc) {
  const kind = sourceKind(doc.source_type);
  const remove = button("Delete “" + doc.title + "”", "trash", { class: "document-delete" }, true);
  remove.addEventListener("click", () => deleteDocument(doc));
  return el("tr", { "data-document": doc.id },
    el("td", { class: "wrap" }, el("a", { href: "/api/v1/documents/" + encodeURIComponent(doc.id) + "/content", target: "_blank", rel: "noopener", text: doc.title })),
    el("td", {}, el("span", { class: "kind" }, icon(kind.icon), sourceNames[doc.source] || doc.source)),
    el("td", { class: "small" }, accessText(doc.access), " ",
      el("a", { class: "who-reads", href: "/admin/access?document=" + encodeURIComponent(doc.id), text: "Who can read it" })),
    readCell(doc.read),
    el("td", { class: "num", text: String(doc.chunk_count) }),
    el("td", { class: "num", text: formatBytes(doc.size) }),
    el("td", {}, timeElement(doc.indexed_at, true)),
    el("td", { class: "actions" }, remove));
}

async function loadDocuments() {
  const query = new URLSearchParams({ page: String(view.page), page_size: String(PAGE_SIZE) });
  if (view.source) query.set("source", view.source);
  if (view.q) query.set("q", view.q);
  let page;
  try {
    page = await api("GET", "/api/v1/documents?" + query);
  } catch (error) {
    toast("Could not load documents: " + error.message, "error");
    return;
  }
  view.total = page.total;
  body.replaceChildren(...page.items.map(row));
  empty.hidden = page.items.length > 0;
  total.textContent = String(page.total);
  const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  pageLabel.textContent = "Page " + view.page + " of " + pages;
  prev.disabled = view.page <= 1;
  next.disabled = view.page >= pages;
  const shown = new URLSearchParams();
  if (view.source) shown.set("source", view.source);
  if (view.q) shown.set("q", view.q);
  history.replaceState(null, "", location.pathname + (shown.toString() ? "?" + shown : ""));
}

async function deleteDocument(doc) {
  const yes = await confirmAction({
    title: "Delete “" + doc.title + "”?",
    message: "It is removed from the index and no longer used in answers. If it comes from a connector, the next full sync may bring it back.",
    confirm: "Delete document",
  });
  if (!yes) return;
  try {
    await api("DELETE", "/api/v1/documents/" + encodeURIComponent(doc.id));
    toast("Deleted “" + doc.title + "”");
    await loadDocuments();
  } catch (error) {
    toast("Could not delete: " + error.message, "error");
  }
}

sourceSelect.addEventListener("change", () => {
  view.source = sourceSelect.value;
  view.page = 1;
  loadDocuments();
});
let timer = null;
queryInput.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    view.q = queryInput.value.trim();
    view.page = 1;
    loadDocuments();
  }, 250);
});
document.getElementById("documents-filter").addEventListener("submit", (event) => event.preventDefault());
prev.addEventListener("click", () => {
  view.page = Math.max(1, view.page - 1);
  loadDocuments();
});
next.addEventListener("click", () => {
  view.page += 1;
  loadDocuments();
});

loadSources().then(loadDocuments);
