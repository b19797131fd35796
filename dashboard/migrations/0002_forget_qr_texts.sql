-- Pass QR texts are credentials: anyone holding one (or a database backup that stored it)
-- opens doors. The dashboard now re-derives a pass's text from its stored claims and the
-- issuer key when its page is asked for, so the stored copies go. The column is blanked
-- first so that the old texts do not survive in the rows' old versions; on SQLite the
-- dashboard also runs with `secure_delete`, so freed pages are zeroed, and checkpoints the
-- WAL after migrating. The same SQL runs on SQLite (3.35 or later) and PostgreSQL.
UPDATE passes SET qr_text = '';
ALTER TABLE passes DROP COLUMN qr_text;
