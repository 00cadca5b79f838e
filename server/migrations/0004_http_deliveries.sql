-- Publications of a channel with a web endpoint are also POSTed there. The outbox folder
-- stays the record; this table says whether the endpoint has the file yet.
--
-- pending:   not yet accepted by the endpoint; tried again at next_attempt_at.
-- delivered: the endpoint answered 2xx.
-- withheld:  a takedown came before the endpoint had it, so it is never sent.

CREATE TABLE http_deliveries (
    publication_id   INTEGER PRIMARY KEY REFERENCES publications (id),
    url              TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'withheld')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX http_deliveries_pending ON http_deliveries (state);
