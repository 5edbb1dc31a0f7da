-- The format this data directory was last opened with, beside PRAGMA user_version (which is
-- what the refusal checks): a record for operators that survives tools resetting the pragma.
ALTER TABLE meta ADD COLUMN format_version INTEGER NOT NULL DEFAULT 0;
