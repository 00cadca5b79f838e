-- Staff ask for a photo to be published to a channel; the request waits in the director's
-- approval queue until a director approves or rejects that photo for that channel.

CREATE TABLE publication_requests (
    id            INTEGER PRIMARY KEY,
    photo_id      INTEGER NOT NULL REFERENCES photos (id),
    channel       TEXT NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES accounts (id),
    requested_at  TEXT NOT NULL,
    closed_at     TEXT
);
CREATE INDEX publication_requests_open ON publication_requests (closed_at, photo_id);
CREATE UNIQUE INDEX publication_requests_one_open
    ON publication_requests (photo_id, channel) WHERE closed_at IS NULL;
