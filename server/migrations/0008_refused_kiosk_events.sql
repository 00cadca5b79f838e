-- Kiosk events the server kept but did not act on (a badge no longer active, a person who
-- may not sign out, a time that cannot be right): shown to admins, never dropped. An
-- event id is either here or in kiosk_events, never both.
CREATE TABLE refused_kiosk_events (
    event_id     TEXT PRIMARY KEY,
    kiosk_id     INTEGER NOT NULL REFERENCES kiosks (id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    reader       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX refused_kiosk_events_received ON refused_kiosk_events (received_at);
