-- A delivery's endpoint may be a WordPress site: the copy goes into its media library.
-- kind:         what answers at url ('http', our own protocol; 'wordpress').
-- remote_id:    the media item's id at the site, once it has the copy.
-- remote_urls:  every address the site serves the copy at (the upload and each size it
--               made), a JSON array: a takedown checks each is gone.
-- draft_post_id: the draft post started with the photo, if asked for.
ALTER TABLE http_deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'http'
    CHECK (kind IN ('http', 'wordpress'));
ALTER TABLE http_deliveries ADD COLUMN remote_id INTEGER;
ALTER TABLE http_deliveries ADD COLUMN remote_urls TEXT;
ALTER TABLE http_deliveries ADD COLUMN draft_post_id INTEGER;
