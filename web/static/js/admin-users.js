/* Admin: users (add, role, groups, reset password, delete) and API keys (create, shown once; revoke). */
import { api, button, confirmAction, copyText, el, splitGroups, timeElement, toast } from "./common.js";

const me = document.body.dataset.userEmail;
const usersBody = document.getElementById("users-body");
const keysBody = document.getElementById("keys-body");
const emails = document.getElementById("user-emails");
const secretBox = document.getElementById("secret-box");
const secretLabel = document.getElementById("secret-label");
const secretValue = document.getElementById("secret-value");

function showSecret(label, value) {
  secretLabel.textContent = label;
  secretValue.textContent = value;
  secretBox.hidden = false;
  secretBox.scrollIntoView({ block: "nearest" });
  document.getElementById("secret-copy").focus();
}

document.getElementById("secret-copy").addEventListener("click", async () => {
  const ok = await copyText(secretValue.textContent);
  toast(ok ? "Copied" : "Could not copy; select it and copy by hand", ok ? "info" : "error");
});
document.getElementById("secret-close").addEventListener("click", () => {
  secretBox.hidden = true;
  secretValue.textContent = "";
});

/* A password for a reset: 16 characters from an unambiguous alphabet, from the browser's CSPRNG. */
function generatePassword() {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = new Uint32Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

// ---------------------------------------------------------------- users

function userRow(user) {
  const self = user.email === me;
  const role = el("select", { "aria-label": "Role of " + user.email, disabled: self, title: self ? "You cannot change your own role" : null },
    el("option", { value: "employee", text: "Employee" }), el("option", { value: "admin", text: "Admin" }));
  role.value = user.role;
  role.addEventListener("change", async () => {
    try {
      await api("PATCH", "/api/v1/users/" + user.id, { role: role.value });
      toast(user.email + " is now " + (role.value === "admin" ? "an admin" : "an employee"));
      user.role = role.value;
    } catch (error) {
      role.value = user.role;
      toast("Could not change the role: " + error.message, "error");
    }
  });
  const groups = el("input", { type: "text", value: user.groups.join(", "), "aria-label": "Groups of " + user.email, placeholder: "none" });
  const saveGroups = async () => {
    const wanted = splitGroups(groups.value);
    if (wanted.join(",") === user.groups.join(",")) return;
    try {
      const updated = await api("PATCH", "/api/v1/users/" + user.id, { groups: wanted });
      user.groups = updated.groups;
      groups.value = updated.groups.join(", ");
      toast("Groups of " + user.email + " saved");
    } catch (error) {
      toast("Could not save the groups: " + error.message, "error");
    }
  };
  groups.addEventListener("change", saveGroups);
  groups.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      saveGroups();
    }
  });
  const reset = button("Reset password", "key", { class: "btn btn-ghost btn-small" });
  reset.addEventListener("click", async () => {
    const yes = await confirmAction({
      title: "Reset the password of " + user.email + "?",
      message: "Their current password stops working. You get a new one to hand over; they choose their own at the next login.",
      confirm: "Reset password",
      danger: false,
    });
    if (!yes) return;
    const password = generatePassword();
    try {
      await api("PATCH", "/api/v1/users/" + user.id, { password });
      showSecret("New password for " + user.email, password);
      loadUsers();
    } catch (error) {
      toast("Could not reset the password: " + error.message, "error");
    }
  });
  const remove = button("Delete " + user.email, "trash", { class: "user-delete", disabled: self }, true);
  remove.addEventListener("click", async () => {
    const yes = await confirmAction({
      title: "Delete " + user.email + "?",
      message: "Their conversations and API keys are deleted too. This cannot be undone.",
      confirm: "Delete user",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/users/" + user.id);
      toast("Deleted " + user.email);
      loadUsers();
      loadKeys();
    } catch (error) {
      toast("Could not delete: " + error.message, "error");
    }
  });
  return el("tr", { "data-user": user.email },
    el("td", {}, user.email, self ? el("span", { class: "badge", text: "you" }) : null),
    el("td", {}, role),
    el("td", {}, groups),
    el("td", {}, user.must_change_password
      ? el("span", { class: "badge badge--warn", text: "must change password" })
      : el("span", { class: "badge badge--ok", text: "active" })),
    el("td", { class: "actions" },
      el("a", { class: "btn btn-ghost btn-small search-as", href: "/admin/access?user=" + encodeURIComponent(user.email), text: "What they can see" }),
      reset, remove));
}

async function loadUsers() {
  let users;
  try {
    users = await api("GET", "/api/v1/users");
  } catch (error) {
    toast("Could not load users: " + error.message, "error");
    return;
  }
  usersBody.replaceChildren(...users.map(userRow));
  emails.replaceChildren(...users.map((u) => el("option", { value: u.email })));
}

document.getElementById("user-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const email = document.getElementById("user-email");
  if (!email.value.trim() || !email.checkValidity()) {
    email.focus();
    toast("Enter the new user's e-mail address", "error");
    return;
  }
  const body = {
    email: email.value.trim(),
    role: document.getElementById("user-role").value,
    groups: splitGroups(document.getElementById("user-groups").value),
  };
  try {
    const created = await api("POST", "/api/v1/users", body);
    form.reset();
    if (created.password) showSecret("First password for " + created.email, created.password);
    else toast("Added " + created.email);
    loadUsers();
  } catch (error) {
    toast("Could not add the user: " + error.message, "error");
  }
});

// ---------------------------------------------------------------- API keys

function keyRow(key) {
  const revoked = Boolean(key.revoked_at);
  const revoke = button("Revoke", "x", { class: "btn btn-ghost btn-small", disabled: revoked });
  revoke.addEventListener("click", async () => {
    const yes = await confirmAction({
      title: "Revoke “" + key.name + "”?",
      message: "Whatever uses this key stops working at once.",
      confirm: "Revoke key",
    });
    if (!yes) return;
    try {
      await api("DELETE", "/api/v1/apikeys/" + key.id);
      toast("Revoked “" + key.name + "”");
      loadKeys();
    } catch (error) {
      toast("Could not revoke: " + error.message, "error");
    }
  });
  return el("tr", { "data-key": key.name, class: revoked ? "revoked" : null },
    el("td", {}, key.name, revoked ? el("span", { class: "badge badge--error", text: "revoked" }) : null),
    el("td", {}, el("code", { text: key.prefix + "…" })),
    el("td", { text: key.user_email }),
    el("td", { text: key.scopes.join(", ") }),
    el("td", {}, key.expires_at ? timeElement(key.expires_at, true) : el("span", { class: "muted", text: "never" })),
    el("td", {}, timeElement(key.created_at, true)),
    el("td", {}, key.last_used_at ? timeElement(key.last_used_at, true) : el("span", { class: "muted", text: "never" })),
    el("td", { class: "actions" }, revoke));
}

async function loadKeys() {
  let keys;
  try {
    keys = await api("GET", "/api/v1/apikeys");
  } catch (error) {
    toast("Could not load API keys: " + error.message, "error");
    return;
  }
  keysBody.replaceChildren(...keys.map(keyRow));
}

document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const name = document.getElementById("key-name");
  if (!name.value.trim()) {
    name.focus();
    toast("Say what will use the key, e.g. “helpdesk bot”", "error");
    return;
  }
  const scopes = [...form.querySelectorAll('input[name="key-scope"]:checked')].map((box) => box.value);
  const body = { name: name.value.trim(), scopes };
  const user = document.getElementById("key-user").value.trim();
  if (user) body.user_email = user;
  const days = document.getElementById("key-days").value.trim();
  if (days) body.expires_in_days = Number(days);
  try {
    const created = await api("POST", "/api/v1/apikeys", body);
    form.reset();
    showSecret("API key “" + created.name + "” for " + created.user_email, created.key);
    loadKeys();
  } catch (error) {
    toast("Could not create the key: " + error.message, "error");
  }
});

loadUsers();
loadKeys();
