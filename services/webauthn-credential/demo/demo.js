// The passkey demo page: browser SDK -> client API, then the demo backend -> server API.
import { SDK } from "/demo/sdk.js";

const form = document.getElementById("passkey-form");
const usernameInput = document.getElementById("username");
const registerButton = document.getElementById("register");
const signInButton = document.getElementById("sign-in");
const statusLine = document.getElementById("status");
const resultLabel = document.getElementById("result-label");
const resultBox = document.getElementById("result");
const setupNotice = document.getElementById("setup");

/** @param {string} text @param {"ok"|"error"|"busy"} kind */
function setStatus(text, kind) {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function showResult(label, value) {
  resultLabel.textContent = label;
  resultBox.textContent = JSON.stringify(value, null, 2);
}

function setBusy(busy) {
  registerButton.disabled = busy;
  signInButton.disabled = busy;
  form.setAttribute("aria-busy", String(busy));
}

/** The SDK's error codes in words (the code itself is shown too). */
const SDK_ERRORS = {
  webauthn_unavailable: "This browser does not support passkeys.",
  api_unsupported_in_browser: "This browser does not support that passkey feature.",
  timeout: "The passkey API did not answer in time.",
  network_error: "The passkey API could not be reached.",
  bad_request: "The passkey API refused the request.",
  server_error: "The passkey API had a problem.",
  canceled_by_user: "The passkey prompt was dismissed or timed out.",
  invalid_domain: "This page's domain does not match the organization's relying party id.",
  "browser_bug?": "The browser returned an unexpected credential.",
  unexpected: "Something unexpected went wrong.",
};

function showSdkFailure(action, result) {
  setStatus(`${action} failed: ${SDK_ERRORS[result.error] ?? result.error} (${result.error})`, "error");
  showResult("Browser SDK result", result);
}

/** POSTs to the demo backend and shows the server API's answer it relays. */
async function backend(path, body, label) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = { error: `HTTP ${response.status} without JSON` };
  }
  showResult(`Server API answer: ${label} (HTTP ${response.status})`, answer);
  return { ok: response.ok, answer };
}

async function main() {
  const config = await fetch("/demo/config", { headers: { Accept: "application/json" } }).then((r) => r.json());
  if (!config.configured) {
    setupNotice.textContent = config.message;
    setupNotice.hidden = false;
    setStatus("The demo is not configured.", "error");
    return;
  }
  const sdk = new SDK(config.publishableKey, config.baseUrl);
  if (!sdk.isWebAuthnAvailable) {
    setStatus(SDK_ERRORS.webauthn_unavailable, "error");
    return;
  }

  async function verify(token, how) {
    setStatus("Verifying the sign-in with the server API…", "busy");
    const { ok, answer } = await backend("/demo/backend/verify", { token }, "POST /auth/verify");
    if (ok) setStatus(`Signed in (${how}) as user ${answer.result?.user?.id}.`, "ok");
    else setStatus("The server API refused the sign-in token.", "error");
    return ok;
  }

  // Passkeys in the username field's autofill, offered from page load. A modal ceremony cancels
  // the pending autofill request (its result is then ignored), so autofill is offered again
  // after a modal ceremony that did not succeed; after a success the user is signed in already.
  let autofillRunning = false;
  async function startAutofill() {
    if (autofillRunning || !(await sdk.isConditionalGetAvailable())) return;
    autofillRunning = true;
    const result = await sdk.autofill();
    autofillRunning = false;
    if (result.ok) await verify(result.data.token, "autofill");
  }

  registerButton.addEventListener("click", async () => {
    const username = usernameInput.value.trim();
    if (!username) {
      setStatus("Type a username to create a passkey for.", "error");
      usernameInput.focus();
      return;
    }
    setBusy(true);
    setStatus("Creating a passkey…", "busy");
    let done = false;
    try {
      const registration = await sdk.startRegister({ username });
      if (!registration.ok) return showSdkFailure("Creating the passkey", registration);
      setStatus("Attaching the passkey to the user with the server API…", "busy");
      const { ok, answer } = await backend(
        "/demo/backend/attach",
        { token: registration.data.token, username },
        "POST /registration/attach",
      );
      done = ok;
      if (ok) setStatus(`Passkey ${answer.result?.id} created for ${username}.`, "ok");
      else setStatus("The server API refused to attach the passkey.", "error");
    } finally {
      setBusy(false);
      if (!done) void startAutofill();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = usernameInput.value.trim();
    setBusy(true);
    setStatus("Signing in with a passkey…", "busy");
    let done = false;
    try {
      const auth = await sdk.startAuth(username ? { username } : undefined);
      if (!auth.ok) return showSdkFailure("Signing in", auth);
      done = await verify(auth.data.token, username ? "username" : "usernameless");
    } finally {
      setBusy(false);
      if (!done) void startAutofill();
    }
  });

  setBusy(false);
  setStatus("Ready.", "ok");
  document.body.dataset.ready = "true";
  void startAutofill();
}

main().catch((error) => {
  setStatus(`The demo could not start: ${error.message}`, "error");
});
