-- Each backup verify-backup found whole: when it was made, where, and whether encrypted.
-- /health reads the newest to say whether backups are current.
CREATE TABLE backup_runs (
    id INTEGER PRIMARY KEY,
    made_at TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    destination TEXT NOT NULL,
    encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    files INTEGER NOT NULL
);
CREATE INDEX backup_runs_made_at ON backup_runs (made_at);
