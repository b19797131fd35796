-- Freeze detection: which revocation list each gateway says (in its signed log) it applied,
-- and since when it has been online, so a gateway held on an old list is noticed.
ALTER TABLE gateways ADD COLUMN list_version BIGINT;    -- newest `revocation applied` version logged
ALTER TABLE gateways ADD COLUMN online_since BIGINT;    -- when it last came online (NULL: offline)
ALTER TABLE gateways ADD COLUMN lagging_since BIGINT;   -- since when, online, it holds an older list than its site's
