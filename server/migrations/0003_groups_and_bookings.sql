-- Groups (a class, a trip) and bookings of a device for a group (K2).
--
-- A booking names the staff member who will hold the camera, the time window and, if it is
-- known, the device. A sign-out by that person inside the window belongs to the booking:
-- the kiosk shows them which people in the group must not be photographed, and tagging the
-- photos offers the group's people first.

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  TEXT NOT NULL,
    archived_at TEXT
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups (id),
    person_id  INTEGER NOT NULL REFERENCES people (id),
    added_at   TEXT NOT NULL,
    PRIMARY KEY (group_id, person_id)
) WITHOUT ROWID;
CREATE INDEX group_members_person ON group_members (person_id);

CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY,
    group_id      INTEGER NOT NULL REFERENCES groups (id),
    holder_id     INTEGER NOT NULL REFERENCES people (id),
    device_id     INTEGER REFERENCES devices (id),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES accounts (id),
    created_at    TEXT NOT NULL,
    cancelled_at  TEXT,
    CHECK (starts_at < ends_at)
);
CREATE INDEX bookings_holder ON bookings (holder_id, starts_at);

ALTER TABLE custody_sessions ADD COLUMN booking_id INTEGER REFERENCES bookings (id);
