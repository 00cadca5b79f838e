-- Outgoing mail (rule M1). Each message is a row written in the same transaction as the
-- change that causes it; a worker sends it under a lease, tries a temporary failure again
-- until its deadline and marks a permanent one failed with the server's answer.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    -- Fixed when queued: a message sent twice (a crash after the server took it) is the
    -- same message to the recipient's mail system.
    message_id      TEXT NOT NULL UNIQUE,
    -- A reminder's kind, subject and due date: the same reminder is queued once.
    dedup_key       TEXT UNIQUE,
    to_address      TEXT NOT NULL,
    -- What it is (a reminder's kind, `test`, ...) and the site of the account it goes to
    -- (NULL: a trust-wide account): an admin of one site lists only that site's mail.
    kind            TEXT NOT NULL,
    site_id         INTEGER REFERENCES sites (id),
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sent', 'failed')),
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    queued_at       TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);

-- Addresses a mail server refused for good (a 5xx answer): flagged on the person or
-- account until someone corrects the address.
CREATE TABLE mail_refused_addresses (
    address    TEXT PRIMARY KEY COLLATE NOCASE,
    answer     TEXT NOT NULL,
    refused_at TEXT NOT NULL
);

-- Where an account's mail goes, and the reminders it has turned on or off (a kind with
-- no row takes its role's default).
ALTER TABLE accounts ADD COLUMN email TEXT;
CREATE TABLE mail_preferences (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (account_id, kind)
) WITHOUT ROWID;
