-- Sessions end at once when what they were opened with changes: every session carries
-- the account's epoch from its login, and a password change, a role change or disabling
-- the account moves the epoch on, so older sessions no longer count.
ALTER TABLE accounts ADD COLUMN sessions_epoch INTEGER NOT NULL DEFAULT 0;
