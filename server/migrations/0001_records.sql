-- consentcam records, first schema.
-- Migrations are append-only: never edit a released file, add the next number instead.
-- Dates are ISO 'YYYY-MM-DD'; timestamps RFC 3339 in UTC.

CREATE TABLE partner_orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  TEXT NOT NULL
);

CREATE TABLE people (
    id             INTEGER PRIMARY KEY,
    ext_ref        TEXT NOT NULL UNIQUE,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    date_of_birth  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('learner', 'staff', 'employer', 'visitor')),
    vulnerable     INTEGER NOT NULL DEFAULT 0 CHECK (vulnerable IN (0, 1)),
    may_sign_out   INTEGER NOT NULL DEFAULT 0 CHECK (may_sign_out IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX people_names ON people (family_name COLLATE NOCASE, given_name COLLATE NOCASE);

CREATE TABLE consent_records (
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
    created_at     TEXT NOT NULL,
    UNIQUE (person_id, signer_kind, signer_name, signed_on)
);
CREATE INDEX consent_records_person ON consent_records (person_id);

CREATE TABLE consent_partners (
    consent_id  INTEGER NOT NULL REFERENCES consent_records (id),
    partner_id  INTEGER NOT NULL REFERENCES partner_orgs (id),
    PRIMARY KEY (consent_id, partner_id)
) WITHOUT ROWID;

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('staff', 'director', 'admin')),
    person_id      INTEGER REFERENCES people (id),
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        BLOB NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE kiosks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE badges (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    enrolled_at TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    label         TEXT NOT NULL UNIQUE,
    make          TEXT NOT NULL,
    model         TEXT NOT NULL,
    serial        TEXT NOT NULL,
    tag_uid       TEXT NOT NULL UNIQUE,
    loan_minutes  INTEGER NOT NULL DEFAULT 480 CHECK (loan_minutes > 0),
    created_at    TEXT NOT NULL,
    UNIQUE (make, model, serial)
);

CREATE TABLE kiosk_events (
    event_id     TEXT PRIMARY KEY,
    kiosk_id     INTEGER NOT NULL REFERENCES kiosks (id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    reader       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  TEXT NOT NULL
);
CREATE INDEX kiosk_events_order ON kiosk_events (kiosk_id, seq);

CREATE TABLE custody_sessions (
    id               INTEGER PRIMARY KEY,
    device_id        INTEGER NOT NULL REFERENCES devices (id),
    person_id        INTEGER NOT NULL REFERENCES people (id),
    out_at           TEXT NOT NULL,
    due_back         TEXT NOT NULL,
    returned_at      TEXT,
    out_event_id     TEXT REFERENCES kiosk_events (event_id),
    return_event_id  TEXT REFERENCES kiosk_events (event_id)
);
CREATE INDEX custody_device ON custody_sessions (device_id, out_at);
CREATE UNIQUE INDEX custody_one_holder ON custody_sessions (device_id) WHERE returned_at IS NULL;

CREATE TABLE photos (
    id                  INTEGER PRIMARY KEY,
    content_hash        TEXT NOT NULL UNIQUE,
    byte_size           INTEGER NOT NULL,
    format              TEXT NOT NULL,
    original_name       TEXT NOT NULL,
    custody_session_id  INTEGER REFERENCES custody_sessions (id),
    device_id           INTEGER REFERENCES devices (id),
    taken_at            TEXT,
    camera_make         TEXT,
    camera_model        TEXT,
    camera_serial       TEXT,
    orientation         INTEGER,
    gps_present         INTEGER NOT NULL DEFAULT 0,
    width               INTEGER,
    height              INTEGER,
    provenance          TEXT NOT NULL DEFAULT 'unknown'
                        CHECK (provenance IN ('verified', 'unregistered_device', 'outside_sign_out', 'unknown')),
    provenance_ack_by   INTEGER REFERENCES accounts (id),
    provenance_ack_note TEXT,
    damage              TEXT,
    analysed_at         TEXT,
    people_confirmed    INTEGER NOT NULL DEFAULT 0 CHECK (people_confirmed IN (0, 1)),
    caption             TEXT NOT NULL DEFAULT '',
    imported_at         TEXT NOT NULL
);
CREATE INDEX photos_session ON photos (custody_session_id);

CREATE TABLE faces (
    id         INTEGER PRIMARY KEY,
    photo_id   INTEGER NOT NULL REFERENCES photos (id),
    x          INTEGER NOT NULL,
    y          INTEGER NOT NULL,
    w          INTEGER NOT NULL,
    h          INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'unresolved' CHECK (state IN ('unresolved', 'person', 'dismissed')),
    person_id  INTEGER REFERENCES people (id),
    CHECK ((state = 'person') = (person_id IS NOT NULL))
);
CREATE INDEX faces_photo ON faces (photo_id);

-- People tagged by hand (the detector missed them) and "unknown" tags.
CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    photo_id   INTEGER NOT NULL REFERENCES photos (id),
    person_id  INTEGER REFERENCES people (id),
    covered    INTEGER NOT NULL DEFAULT 0 CHECK (covered IN (0, 1)),
    UNIQUE (photo_id, person_id)
);
CREATE INDEX tags_person ON tags (person_id);

CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY,
    photo_id     INTEGER NOT NULL REFERENCES photos (id),
    channel      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    approved     INTEGER NOT NULL CHECK (approved IN (0, 1)),
    note         TEXT NOT NULL,
    director_id  INTEGER NOT NULL REFERENCES accounts (id),
    decided_at   TEXT NOT NULL,
    voided_at    TEXT,
    void_reason  TEXT
);
CREATE INDEX approvals_photo ON approvals (photo_id, channel);

CREATE TABLE publications (
    id                 INTEGER PRIMARY KEY,
    photo_id           INTEGER NOT NULL REFERENCES photos (id),
    channel            TEXT NOT NULL,
    opaque_name        TEXT NOT NULL UNIQUE,
    published_at       TEXT NOT NULL,
    published_by       INTEGER REFERENCES accounts (id),
    decision           TEXT NOT NULL,
    takedown_since     TEXT,
    takedown_reason    TEXT,
    takedown_done_at   TEXT,
    takedown_done_by   INTEGER REFERENCES accounts (id)
);
CREATE INDEX publications_photo ON publications (photo_id);

-- Append-only, hash-chained. hash = sha256(prev_hash || canonical row).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
