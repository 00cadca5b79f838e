-- Consent answered online: a person's contacts, the personal links mailed to them, the
-- visits a link opens, the wording people were shown (versioned), and each online
-- answer's evidence.

-- One paper form per person, signer and signing day (a CSV row imported twice is the same
-- form) holds for paper forms only: an online answer and a change made online the same day
-- are two forms, the later one deciding.
CREATE TABLE consent_records_rebuilt (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES people (id),
    signer_kind    TEXT NOT NULL CHECK (signer_kind IN ('parent', 'guardian', 'carer', 'self')),
    signer_name    TEXT NOT NULL,
    signed_on      TEXT NOT NULL,
    expires_on     TEXT,
    withdrawn_on   TEXT,
    internal       INTEGER NOT NULL CHECK (internal IN (0, 1)),
    website        INTEGER NOT NULL CHECK (website IN (0, 1)),
    social         INTEGER NOT NULL CHECK (social IN (0, 1)),
    evidence_path  TEXT,
    source         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
INSERT INTO consent_records_rebuilt
    SELECT id, person_id, signer_kind, signer_name, signed_on, expires_on, withdrawn_on,
           internal, website, social, evidence_path, source, created_at
    FROM consent_records;
DROP TABLE consent_records;
ALTER TABLE consent_records_rebuilt RENAME TO consent_records;
CREATE INDEX consent_records_person ON consent_records (person_id);
CREATE UNIQUE INDEX consent_records_paper_key
    ON consent_records (person_id, signer_kind, signer_name, signed_on)
    WHERE source NOT LIKE 'online:%';

-- Who answers for a person: a parent, guardian or carer, or the person (`self`).
CREATE TABLE person_contacts (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES people (id),
    name          TEXT NOT NULL,
    relationship  TEXT NOT NULL CHECK (relationship IN ('parent', 'guardian', 'carer', 'self')),
    email         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- Kept (evidence points to it) but asked nothing more.
    removed_at    TEXT
);
CREATE UNIQUE INDEX person_contacts_address
    ON person_contacts (person_id, email COLLATE NOCASE) WHERE removed_at IS NULL;
CREATE INDEX person_contacts_email ON person_contacts (email COLLATE NOCASE);

-- What the form says, each version kept with its hash.
CREATE TABLE consent_wordings (
    id          INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- A personal link: only the SHA-256 of its token is kept.
CREATE TABLE consent_links (
    id                 INTEGER PRIMARY KEY,
    token_hash         BLOB NOT NULL UNIQUE,
    person_id          INTEGER NOT NULL REFERENCES people (id),
    contact_id         INTEGER NOT NULL REFERENCES person_contacts (id),
    purpose            TEXT NOT NULL CHECK (purpose IN ('answer', 'withdraw')),
    -- request | renewal | new_link | confirmation
    reason             TEXT NOT NULL,
    requested_by       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    opened_at          TEXT,
    used_at            TEXT,
    wrong_birth_dates  INTEGER NOT NULL DEFAULT 0,
    locked_at          TEXT,
    mail_id            INTEGER REFERENCES mail_outbox (id)
);
CREATE INDEX consent_links_person ON consent_links (person_id, created_at);
CREATE INDEX consent_links_contact ON consent_links (contact_id, created_at);

-- A browser's visit through a link: the cookie holds the secret, only its hash is kept.
CREATE TABLE consent_visits (
    secret_hash    BLOB PRIMARY KEY,
    link_id        INTEGER NOT NULL REFERENCES consent_links (id),
    csrf           TEXT NOT NULL,
    born_checked   INTEGER NOT NULL DEFAULT 0 CHECK (born_checked IN (0, 1)),
    draft          TEXT NOT NULL DEFAULT '{}',
    reference      TEXT,
    expires_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX consent_visits_link ON consent_visits (link_id);

-- The evidence of a form given or changed online.
CREATE TABLE consent_online (
    consent_id    INTEGER PRIMARY KEY REFERENCES consent_records (id),
    reference     TEXT NOT NULL UNIQUE,
    link_id       INTEGER NOT NULL REFERENCES consent_links (id),
    contact_id    INTEGER NOT NULL REFERENCES person_contacts (id),
    -- answer | withdraw
    purpose       TEXT NOT NULL,
    typed_name    TEXT NOT NULL,
    relationship  TEXT NOT NULL,
    wording_id    INTEGER NOT NULL REFERENCES consent_wordings (id),
    answers       TEXT NOT NULL,
    submitted_at  TEXT NOT NULL
);
