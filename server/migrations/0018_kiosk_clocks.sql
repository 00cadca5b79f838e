-- A kiosk whose clock and the server's disagree: by how much (the kiosk's clock minus the
-- server's, in seconds) and since when (the server's time). Its events wait on the kiosk
-- until the clocks agree again; the admin's kiosk page says so.
ALTER TABLE kiosks ADD COLUMN clock_off_seconds INTEGER;
ALTER TABLE kiosks ADD COLUMN clock_off_since TEXT;
