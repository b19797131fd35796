-- Sites become things an admin makes before any gateway: a name for people, an address, and
-- the language new members get by default. Sites made by `bygd gateway add` before this
-- are named after their id and default to English; both can be changed with `bygd site edit`.
-- The same SQL runs on SQLite and PostgreSQL (NOT NULL columns need a default on SQLite).
ALTER TABLE sites ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN address TEXT;                          -- NULL: not given
ALTER TABLE sites ADD COLUMN language TEXT NOT NULL DEFAULT 'en';   -- sv, da or en
UPDATE sites SET name = id WHERE name = '';
