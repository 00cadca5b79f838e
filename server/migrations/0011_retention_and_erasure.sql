-- Retention and erasure (UK GDPR storage limitation and Article 17).
--
-- people.left_on:     the day a person left the organisation; their forms and scans are
--                     kept for [retention] former_person_years after it.
-- people.erased_at:   the person was erased: the row stays only as "erased person" (no
--                     name, reference or date of birth) so that custody records and the
--                     covered faces in photos with others still point somewhere.
-- people.erased_ref_hash: SHA-256 of the reference they had, so that a CSV import of an
--                     old export cannot bring them back unnoticed.
-- photos.erase_due:   the only person in this photo was erased; it is purged as soon as
--                     no publication of it is live.
-- pending_deletions:  files whose rows are gone, written in the same transaction that
--                     removed the rows, and removed from here once the file is gone. A
--                     purge or erasure killed half-way is finished by the next run.
-- person_notes:       free text about a person (why the vulnerable flag was lowered); the
--                     audit log refers to the note by id, so an erasure can remove the text
--                     without touching the hash chain.
ALTER TABLE people ADD COLUMN left_on TEXT;
ALTER TABLE people ADD COLUMN erased_at TEXT;
ALTER TABLE people ADD COLUMN erased_ref_hash TEXT;
CREATE INDEX people_erased_ref ON people (erased_ref_hash) WHERE erased_ref_hash IS NOT NULL;
ALTER TABLE photos ADD COLUMN erase_due INTEGER NOT NULL DEFAULT 0;

CREATE TABLE pending_deletions (
    path       TEXT PRIMARY KEY,
    queued_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE person_notes (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    written_at  TEXT NOT NULL
);
CREATE INDEX person_notes_person ON person_notes (person_id);
