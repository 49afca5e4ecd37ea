// authplane console: the organization admin's passkey (register after the first sign-in; confirm
// a sign-in after the email code). Progressive enhancement of a plain form:
//   <form data-passkey="register|sign-in" data-publishable-key="pk_…" data-user-name|data-user-id="…">
//     <input type="hidden" name="token"> …
// The ceremony runs against webauthn-credential's client API on this origin (the gateway routes
// /attestation and /assertion), with the console organization's publishable key only; the form
// then posts the one-time token (rtn_… / atn_…) and the console verifies it server-side with the
// secret key, which never reaches the browser.

const b64urlToBytes = (s) => {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
};
const bytesToB64url = (buf) => {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

async function call(path, publishableKey, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { Authorization: `Basic ${btoa(`${publishableKey}:`)}`, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
  });
  const json = await res.json().catch(() => null);
  if (!res.ok || !json?.result) {
    const message = json?.errors?.[0]?.message;
    throw new Error(message || `The passkey service answered ${res.status}.`);
  }
  return json.result;
}

async function register(form) {
  const pk = form.dataset.publishableKey;
  const name = form.dataset.userName;
  const { publicKey } = await call("/attestation/options", pk, { user: { username: name, displayName: name } });
  const options = {
    ...publicKey,
    challenge: b64urlToBytes(publicKey.challenge),
    user: { ...publicKey.user, id: b64urlToBytes(publicKey.user.id) },
    excludeCredentials: (publicKey.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) })),
  };
  const cred = await navigator.credentials.create({ publicKey: options });
  const r = cred.response;
  const credential = {
    id: cred.id,
    rawId: bytesToB64url(cred.rawId),
    type: cred.type,
    clientExtensionResults: cred.getClientExtensionResults(),
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    response: {
      clientDataJSON: bytesToB64url(r.clientDataJSON),
      attestationObject: bytesToB64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [],
    },
  };
  return (await call("/attestation/process", pk, { credential })).token;
}

async function signIn(form) {
  const pk = form.dataset.publishableKey;
  const user = { id: form.dataset.userId };
  const { publicKey } = await call("/assertion/options", pk, { user });
  const options = {
    ...publicKey,
    challenge: b64urlToBytes(publicKey.challenge),
    allowCredentials: (publicKey.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) })),
  };
  const cred = await navigator.credentials.get({ publicKey: options });
  const r = cred.response;
  const credential = {
    id: cred.id,
    rawId: bytesToB64url(cred.rawId),
    type: cred.type,
    clientExtensionResults: cred.getClientExtensionResults(),
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    response: {
      clientDataJSON: bytesToB64url(r.clientDataJSON),
      authenticatorData: bytesToB64url(r.authenticatorData),
      signature: bytesToB64url(r.signature),
      userHandle: r.userHandle ? bytesToB64url(r.userHandle) : undefined,
    },
  };
  return (await call("/assertion/process", pk, { credential, user })).token;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const status = form.querySelector(".passkey-status");
    const tokenField = form.querySelector('input[name="token"]');
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (status) status.textContent = "This browser does not support passkeys.";
      continue;
    }
    form.addEventListener("submit", async (event) => {
      if (tokenField.value) return; // the token is in: post the form
      event.preventDefault();
      if (status) status.textContent = "Follow your browser's passkey prompt…";
      try {
        tokenField.value = form.dataset.passkey === "register" ? await register(form) : await signIn(form);
        if (status) status.textContent = "Done. Continuing…";
        form.submit();
      } catch (err) {
        tokenField.value = "";
        if (status) status.textContent = `The passkey step did not complete: ${err?.message ?? err}`;
      }
    });
  }
});
