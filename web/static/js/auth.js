/* Logging in, and choosing a new password (required after the first login with a given one). */
import { api } from "./common.js";

function showError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

function busy(form, on) {
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = on;
  form.setAttribute("aria-busy", String(on));
}

const login = document.getElementById("login-form");
if (login) {
  const error = document.getElementById("login-error");
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = login.elements.email.value.trim();
    const password = login.elements.password.value;
    if (!email || !password) {
      showError(error, "Enter your e-mail and password.");
      (email ? login.elements.password : login.elements.email).focus();
      return;
    }
    showError(error, "");
    busy(login, true);
    try {
      const response = await fetch("/api/v1/auth/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email, password }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const detail = typeof body.detail === "string" ? body.detail : "Could not log in (" + response.status + ").";
        showError(error, detail.charAt(0).toUpperCase() + detail.slice(1) + ".");
        login.elements.password.select();
        return;
      }
      location.assign(body.must_change_password ? "/password" : login.dataset.next || "/");
    } catch (_) {
      showError(error, "Enclave did not answer. Check your connection and try again.");
    } finally {
      busy(login, false);
    }
  });
}

const change = document.getElementById("password-form");
if (change) {
  const error = document.getElementById("password-error");
  change.addEventListener("submit", async (event) => {
    event.preventDefault();
    const current = change.elements.current_password.value;
    const fresh = change.elements.new_password.value;
    const repeat = change.elements.repeat_password.value;
    if (!current || !fresh) return showError(error, "Fill in your current and your new password.");
    if (fresh.length < 10) return showError(error, "The new password needs at least 10 characters.");
    if (fresh !== repeat) {
      change.elements.repeat_password.focus();
      return showError(error, "The two new passwords differ.");
    }
    showError(error, "");
    busy(change, true);
    try {
      await api("POST", "/api/v1/auth/password", { current_password: current, new_password: fresh });
      location.assign("/");
    } catch (failure) {
      const message = failure.message || "Could not change the password.";
      showError(error, message.charAt(0).toUpperCase() + message.slice(1) + ".");
    } finally {
      busy(change, false);
    }
  });
}
