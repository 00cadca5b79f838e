-- A kiosk event is judged against the latest time already recorded for its kiosk (and
-- its device's custody), whatever order the kiosk numbered it in.
CREATE INDEX kiosk_events_time ON kiosk_events (kiosk_id, at);
