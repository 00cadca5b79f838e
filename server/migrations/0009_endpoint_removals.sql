-- A takedown marked done also asks a channel's web endpoint to remove its copy (DELETE
-- <url>/<file name>), retried like deliveries. Two more states:
--
-- removing:  the endpoint has the file and has not yet confirmed its removal; tried again
--            at next_attempt_at.
-- removed:   the endpoint answered 2xx or 404 to the DELETE.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows.
CREATE TABLE http_deliveries_new (
    publication_id   INTEGER PRIMARY KEY REFERENCES publications (id),
    url              TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'withheld', 'removing', 'removed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT,
    removed_at       TEXT
);
INSERT INTO http_deliveries_new (publication_id, url, state, attempts, last_error,
                                 next_attempt_at, delivered_at)
    SELECT publication_id, url, state, attempts, last_error, next_attempt_at, delivered_at
    FROM http_deliveries;
DROP TABLE http_deliveries;
ALTER TABLE http_deliveries_new RENAME TO http_deliveries;
CREATE INDEX http_deliveries_pending ON http_deliveries (state);
