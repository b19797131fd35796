-- The member's pass app (issue 13). A phone enrols its device key once through the pass link:
-- the dashboard then issues a device-bound pass that takes over the link and revokes the bare
-- one. Renewing a pass does the same with new dates and the same key. `replaced_by` names the
-- pass that took over a link; the link's hash moves to it, and the old row keeps a marker no
-- secret hashes to. A phone that cannot keep a key says why, and the operator sees it.
-- The same SQL runs on SQLite and PostgreSQL.
ALTER TABLE passes ADD COLUMN replaced_by TEXT;          -- NULL: not replaced
ALTER TABLE passes ADD COLUMN device_problem TEXT;       -- NULL: none reported
ALTER TABLE passes ADD COLUMN device_problem_at BIGINT;
-- 1: passes at this site open doors only from the pass app with a device key.
ALTER TABLE sites ADD COLUMN require_device_key INTEGER NOT NULL DEFAULT 0;
