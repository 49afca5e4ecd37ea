-- The web console's organization admins (issue 14): invites by email, the console organization.

-- An organization's console admin, invited by email. "accepted_at" is set at the admin's first
-- sign-in (email OTP verified by consumer-auth in the console organization); "consumer_id" is that
-- consumer (the passkey user id in webauthn-credential). Removing an admin (or revoking an
-- invite) deletes the row; the audit log keeps the history.
CREATE TABLE "dashboard_admins" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "invited_by" TEXT NOT NULL,
    "invited_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "accepted_at" TIMESTAMPTZ(6),
    "last_sign_in_at" TIMESTAMPTZ(6),

    CONSTRAINT "dashboard_admins_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "dashboard_admins_organization_id_email_key" ON "dashboard_admins"("organization_id", "email");
CREATE INDEX "dashboard_admins_email_idx" ON "dashboard_admins"("email");

-- One row per email that signed in at least once: its consumer in the console organization and
-- whether it has registered a passkey (then every later sign-in needs it after the email code).
CREATE TABLE "dashboard_admin_identities" (
    "email" TEXT NOT NULL,
    "consumer_id" TEXT NOT NULL,
    "passkey_credential_id" TEXT,
    "passkey_registered_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dashboard_admin_identities_pkey" PRIMARY KEY ("email")
);

-- The console organization (one row, id 'console'): the platform's own organization whose
-- consumers are console admins. Its live publishable key in clear (it is public by nature), its
-- live secret key sealed (AES-256-GCM, key from DASHBOARD_SEAL_KEY or derived from OPERATOR_TOKEN).
CREATE TABLE "dashboard_console" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "publishable_key" TEXT NOT NULL,
    "sealed_secret_key" TEXT NOT NULL,
    "secret_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dashboard_console_pkey" PRIMARY KEY ("id")
);
