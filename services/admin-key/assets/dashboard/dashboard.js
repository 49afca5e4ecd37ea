// authplane console: progressive enhancement only (every page works without this file).
// Loaded with `defer` from the console's own origin; the CSP allows no inline script.

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="input-id">. Hidden until script runs (they need the clipboard API).
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      if (!input) return;
      const status = document.getElementById(`${button.dataset.copy}-copied`);
      try {
        await navigator.clipboard.writeText(input.value);
        if (status) status.textContent = "Copied.";
      } catch {
        input.select();
        if (status) status.textContent = "Select and copy the key (Ctrl+C / Cmd+C).";
      }
    });
  }
  // Confirmation of destructive actions: <form data-confirm="Revoke this key?">.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Fetch helper for enhanced pages: the session's CSRF token travels in X-CSRF-Token.
  const csrf = document.querySelector('input[name="_csrf"]');
  window.authplaneConsole = {
    csrfToken: csrf ? csrf.value : null,
    fetch(url, init = {}) {
      const headers = new Headers(init.headers || {});
      if (csrf) headers.set("X-CSRF-Token", csrf.value);
      return fetch(url, { ...init, headers, credentials: "same-origin" });
    },
  };
});
