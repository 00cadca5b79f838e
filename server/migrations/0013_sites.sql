-- Sites: the centres of a trust or provider served by one server. Devices, kiosks,
-- people, groups, accounts and photos may belong to one; an account with a site sees
-- only that site's records, one without (and every account of a single-site install,
-- where nothing has a site) sees everything.
CREATE TABLE sites (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    created_at TEXT NOT NULL
);

ALTER TABLE people   ADD COLUMN site_id INTEGER REFERENCES sites(id);
ALTER TABLE accounts ADD COLUMN site_id INTEGER REFERENCES sites(id);
ALTER TABLE kiosks   ADD COLUMN site_id INTEGER REFERENCES sites(id);
ALTER TABLE devices  ADD COLUMN site_id INTEGER REFERENCES sites(id);
ALTER TABLE groups   ADD COLUMN site_id INTEGER REFERENCES sites(id);
ALTER TABLE photos   ADD COLUMN site_id INTEGER REFERENCES sites(id);

CREATE INDEX people_by_site ON people(site_id);
CREATE INDEX photos_by_site ON photos(site_id);
