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
  // Live tail: <ol id="live-events" data-stream="…"> (the page lists the backlog without this).
  const list = document.getElementById("live-events");
  if (list?.dataset.stream && "EventSource" in window) startLiveTail(list);
});

/** Opens the server-sent-event stream and appends each event to the list (aria-live="polite"). */
function startLiveTail(list) {
  const status = document.getElementById("tail-status");
  const empty = document.getElementById("no-events");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  for (const el of document.querySelectorAll(".live-only")) el.hidden = false;
  for (const el of document.querySelectorAll(".no-live")) el.hidden = true;
  const seen = new Set([...list.querySelectorAll("li[data-event-id]")].map((li) => li.dataset.eventId));
  const source = new EventSource(list.dataset.stream, { withCredentials: true });
  source.addEventListener("open", () => say("Live: new events appear at the end of the list."));
  source.addEventListener("auth", (message) => {
    let e;
    try {
      e = JSON.parse(message.data);
    } catch {
      return;
    }
    if (seen.has(e.id)) return;
    seen.add(e.id);
    const li = document.createElement("li");
    li.dataset.eventId = e.id;
    const when = document.createElement("time");
    when.dateTime = e.occurredAt;
    when.textContent = `${e.occurredAt.slice(0, 19).replace("T", " ")} UTC`;
    const type = document.createElement("strong");
    type.className = "event-type";
    type.textContent = e.type;
    const summary = document.createElement("span");
    summary.className = "event-summary";
    summary.textContent = e.summary;
    li.append(when, " ", type, " ", summary);
    list.append(li);
    if (empty) empty.hidden = true;
  });
  source.addEventListener("end", () => {
    source.close();
    say("The live tail stopped: the console session ended. Sign in again to resume.");
  });
  source.addEventListener("error", () => {
    // EventSource reconnects by itself while the stream can be re-opened; CLOSED means it gave up.
    say(source.readyState === EventSource.CLOSED ? "The live tail stopped. Reload the page to resume." : "Reconnecting…");
  });
}
