-- Restriction of processing (UK GDPR Article 18): while a person is restricted, no photo
-- of them is used on any channel, and they are not offered when tagging. Kept until an
-- admin lifts it.
ALTER TABLE people ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
