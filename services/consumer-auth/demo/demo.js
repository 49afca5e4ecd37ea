// The consumer demo page: guest -> one-time code (dev outbox) -> refresh -> authenticated call -> logout,
// all through the browser SDK.
import { Fanfare } from "/demo/consumer/sdk.js";

const $ = (id) => document.getElementById(id);
const main = document.querySelector("main");
const keyInput = $("publishable-key");
const baseInput = $("api-base");
const channelSelect = $("channel");
const identityInput = $("identity");
const codeInput = $("code");
const statusLine = $("status");
const sessionBox = $("session");
const resultLabel = $("result-label");
const resultBox = $("result");
const logBox = $("log");
const buttons = ["guest", "send-code", "read-outbox", "verify", "refresh", "call-api", "logout"].map($);

/** @param {string} text @param {"ok"|"error"|"busy"} kind @param {string} [step] */
function setStatus(text, kind, step) {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
  if (kind !== "busy") {
    statusLine.dataset.step = step ?? "";
    statusLine.dataset.seq = String(Number(statusLine.dataset.seq ?? "0") + 1);
  }
}

/** Tokens are never shown whole: a prefix and the last characters are enough to tell them apart. */
function fingerprint(token) {
  return typeof token === "string" ? `${token.slice(0, 3)}…${token.slice(-6)}` : token;
}

function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /token$/i.test(k) ? fingerprint(v) : redact(v)]));
  }
  return value;
}

function showResult(label, value) {
  resultLabel.textContent = `Last answer: ${label}`;
  resultBox.textContent = JSON.stringify(redact(value), null, 2);
}

function showSession(session) {
  sessionBox.textContent = session ? JSON.stringify(session, null, 2) : "None.";
  sessionBox.dataset.consumerId = session?.consumerId ?? "";
  sessionBox.dataset.type = session?.type ?? "";
}

function log(line) {
  logBox.textContent = `${new Date().toISOString().slice(11, 23)} ${line}\n${logBox.textContent}`;
}

function describeError(error) {
  if (error && error.name === "FanfareError") {
    const extra = error.retryAfter !== undefined ? ` Retry after ${error.retryAfter} s.` : "";
    return `${error.message} (${error.code}, HTTP ${error.status}).${extra}`;
  }
  return error instanceof Error ? error.message : String(error);
}

let sdk = null;
let unsubscribe = null;

/** (Re)creates the SDK from the settings fields. */
function connect() {
  unsubscribe?.();
  sdk?.close();
  sdk = null;
  const publishableKey = keyInput.value.trim();
  if (!publishableKey) {
    showSession(null);
    setStatus("Enter a publishable key (pk_test_…) to start.", "error", "setup");
    return;
  }
  try {
    sdk = new Fanfare({ publishableKey, baseUrl: baseInput.value.trim() });
  } catch (error) {
    setStatus(describeError(error), "error", "setup");
    return;
  }
  unsubscribe = sdk.auth.onChange((session) => {
    showSession(session);
    log(session ? `session ${session.type} ${session.consumerId}, access token until ${session.expiresAt}` : "signed out");
  });
  sdk.auth.getSession().then(showSession);
}

/** Runs one step with the buttons disabled; the status line says how it went. */
function step(id, name, run) {
  $(id).addEventListener("click", async () => {
    if (!sdk) return setStatus("Enter a publishable key first.", "error", name);
    main.setAttribute("aria-busy", "true");
    for (const b of buttons) b.disabled = true;
    setStatus(`${name}…`, "busy");
    try {
      const text = await run(sdk);
      setStatus(text, "ok", name);
    } catch (error) {
      showResult(`${name} failed`, error?.body ?? { error: describeError(error) });
      setStatus(`${name} failed: ${describeError(error)}`, "error", name);
    } finally {
      for (const b of buttons) b.disabled = false;
      main.setAttribute("aria-busy", "false");
    }
  });
}

function identity() {
  const value = identityInput.value.trim();
  if (!value) throw new Error("Type an email address or a phone number first.");
  return channelSelect.value === "phone" ? { phone: value } : { email: value };
}

/** The newest development-outbox message for `to` (otp-delivery's GET /dev/outbox, on this page's origin). */
async function newestMessage(to) {
  const response = await fetch(`/dev/outbox?to=${encodeURIComponent(to)}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`GET /dev/outbox answered HTTP ${response.status} (it exists in development only)`);
  const body = await response.json();
  return body.messages?.[0] ?? null;
}

let lastSeenMessageId = null;

step("guest", "guest", async (s) => {
  const session = await s.auth.guest();
  showResult("guest", { session });
  return `Guest session ${session.consumerId}.`;
});

step("send-code", "send-code", async (s) => {
  const who = identity();
  lastSeenMessageId = (await newestMessage(Object.values(who)[0]).catch(() => null))?.id ?? null;
  const answer = await s.auth.requestOtp(who);
  showResult("POST /api/v1/auth/otp/request", answer);
  return `Code sent to ${Object.values(who)[0]}.`;
});

step("read-outbox", "read-outbox", async () => {
  const to = Object.values(identity())[0];
  // Delivery is asynchronous (a JetStream job): wait for a message newer than the one seen before sending.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const message = await newestMessage(to);
    if (message && message.id !== lastSeenMessageId && message.code) {
      codeInput.value = message.code;
      showResult("GET /dev/outbox", { id: message.id, channel: message.channel, to: message.to, createdAt: message.createdAt });
      return "Code read from the development outbox.";
    }
    if (Date.now() > deadline) throw new Error("No new message in the development outbox after 15 s.");
    await new Promise((r) => setTimeout(r, 300));
  }
});

step("verify", "verify", async (s) => {
  const who = identity();
  const answer = await s.auth.verifyOtp({ ...who, code: codeInput.value.trim() });
  showResult("POST /api/v1/auth/otp/verify", answer);
  return `Signed in as ${answer.session.consumerId} (${answer.session.type}).`;
});

step("refresh", "refresh", async (s) => {
  const answer = await s.auth.refresh();
  showResult("refresh", answer);
  return `Tokens refreshed; access token until ${answer.accessTokenExpiresAt}.`;
});

// The authenticated call goes to THIS page's origin, as a call to your own backend would: the
// gateway in front of it checks the token with consumer-auth's GET /api/v1/auth/check (a gateway
// endpoint, not one pages call across origins).
step("call-api", "call-api", async (s) => {
  const response = await s.fetch(new URL("/api/v1/auth/check", location.origin).href);
  showResult("GET /api/v1/auth/check", { status: response.status });
  if (!response.ok) throw new Error(`GET /api/v1/auth/check answered HTTP ${response.status}`);
  return `Authenticated call answered HTTP ${response.status}.`;
});

step("logout", "logout", async (s) => {
  await s.auth.logout();
  showResult("POST /api/v1/auth/logout", { status: 204 });
  return "Logged out.";
});

async function start() {
  const config = await fetch("/demo/consumer/config", { headers: { Accept: "application/json" } }).then((r) => r.json());
  keyInput.value = config.publishableKey ?? "";
  baseInput.value = config.baseUrl ?? "";
  if (!config.publishableKey) {
    $("setup").textContent =
      "No publishable key configured: `npm start` sets the development organization's (DEMO_PUBLISHABLE_KEY of consumer-auth). Paste one above.";
    $("setup").hidden = false;
  }
  keyInput.addEventListener("change", connect);
  baseInput.addEventListener("change", connect);
  connect();
  for (const b of buttons) b.disabled = false;
  main.setAttribute("aria-busy", "false");
  document.body.dataset.ready = "true";
}

start().catch((error) => setStatus(`The demo could not start: ${error.message}`, "error", "setup"));
