-- bygd dashboard schema, version 1. One schema for SQLite and PostgreSQL: only types and
-- statements both accept (TEXT, BIGINT; no auto-increment; ids are chosen by the dashboard),
-- times in Unix seconds, ids and hashes in lowercase hex, booleans as 0/1.

-- A site: one space, with the time zone its passes' schedules and the audit use.
CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    time_zone   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A registered gateway, its key, its chain head as stored here, and its command counter.
CREATE TABLE gateways (
    site          TEXT NOT NULL,
    id            TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    doors         TEXT NOT NULL,        -- comma-separated door ids, as registered
    registered_at BIGINT NOT NULL,
    head_seq      BIGINT NOT NULL,      -- every event up to it is stored
    head_hash     TEXT NOT NULL,        -- the hash of event head_seq (zeros before any)
    command_seq   BIGINT NOT NULL,      -- the last command sequence number used
    online        BIGINT NOT NULL,      -- from the retained status and the last will
    status        TEXT,                 -- the last status message (JSON, unsigned)
    status_at     BIGINT,
    last_seen     BIGINT,               -- when anything last came from the gateway
    PRIMARY KEY (site, id)
);

-- Every event a gateway logged, stored once per (site, gateway, seq) after its batch's
-- signature and its place in the hash chain were checked.
CREATE TABLE events (
    site        TEXT NOT NULL,
    gateway     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    time        BIGINT NOT NULL,        -- the gateway's time
    clock       TEXT NOT NULL,          -- synchronised, unsynchronised, floor
    kind        TEXT NOT NULL,          -- entry_granted, entry_denied, door_opened, ...
    outcome     TEXT,                   -- entries only: granted or denied
    door        TEXT,
    member      TEXT,
    pass_id     TEXT,
    reason      TEXT,                   -- a rejection code
    command_id  TEXT,
    bytes       TEXT NOT NULL,          -- the exact signed bytes, hex
    hash        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (site, gateway, seq)
);
CREATE INDEX events_by_time ON events (time);
CREATE INDEX events_by_outcome ON events (outcome, time);
CREATE INDEX events_by_member ON events (member, time);
CREATE INDEX events_by_door ON events (site, door, time);
CREATE INDEX events_by_command ON events (command_id);

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);

-- The sites a member belongs to: spaces share a dashboard, not each other's members.
CREATE TABLE member_sites (
    member  TEXT NOT NULL,
    site    TEXT NOT NULL,
    PRIMARY KEY (member, site)
);
CREATE INDEX member_sites_by_site ON member_sites (site, member);

CREATE TABLE passes (
    id          TEXT PRIMARY KEY,
    member      TEXT NOT NULL,
    site        TEXT NOT NULL,
    doors       TEXT NOT NULL,          -- comma-separated; empty: every door of the site
    kind        TEXT NOT NULL,
    not_before  BIGINT NOT NULL,
    expires     BIGINT NOT NULL,
    schedule    TEXT,                   -- as given: "mon-fri 07:00-22:00"
    device_key  TEXT,
    booking     TEXT,                   -- the booking system's reference, if any
    qr_text     TEXT NOT NULL,
    page_token  TEXT NOT NULL,          -- SHA-256 of the pass page link's secret
    issued_at   BIGINT NOT NULL,
    issued_by   TEXT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);
CREATE INDEX passes_by_member ON passes (member);
CREATE INDEX passes_by_site ON passes (site, revoked_at);
CREATE UNIQUE INDEX passes_by_page_token ON passes (page_token);

-- The newest signed revocation list of each site (published retained).
CREATE TABLE revocation_lists (
    site        TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires     BIGINT NOT NULL,
    passes      BIGINT NOT NULL,
    members     BIGINT NOT NULL,
    bytes       TEXT NOT NULL
);

-- Named counters that must never go backwards (the revocation list version).
CREATE TABLE counters (
    name    TEXT PRIMARY KEY,
    value   BIGINT NOT NULL
);

-- Commands to gateways: the dashboard's outbox (published_at NULL) and their results.
CREATE TABLE commands (
    id           TEXT PRIMARY KEY,
    site         TEXT NOT NULL,
    gateway      TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    action       TEXT NOT NULL,         -- unlock, lockdown, time
    door         TEXT,
    seconds      BIGINT,
    turn_on      BIGINT,
    issued_at    BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    bytes        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    published_at BIGINT,
    sends        BIGINT NOT NULL,       -- times handed to the broker (a repeat after a reconnect)
    outcome      TEXT,                  -- done, a rejection code, or not_sent
    outcome_at   BIGINT,
    UNIQUE (site, gateway, seq)
);
CREATE INDEX commands_unpublished ON commands (published_at, site, gateway, seq);

-- Alarms: integrity (a forged, forked or gapped log), doors (forced, held open), gateways
-- (offline). One row stays open per (site, gateway, kind, door) until cleared.
CREATE TABLE alarms (
    id          TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    gateway     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    door        TEXT NOT NULL,          -- empty when the alarm is not about one door
    detail      TEXT NOT NULL,
    first_at    BIGINT NOT NULL,
    last_at     BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    cleared_at  BIGINT
);
CREATE INDEX alarms_open ON alarms (site, gateway, kind, door, cleared_at);
CREATE INDEX alarms_by_time ON alarms (last_at);

CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,        -- admin, operator, auditor
    sites         TEXT NOT NULL,        -- "*" or comma-separated site ids
    password_hash TEXT NOT NULL,        -- argon2id, PHC string
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- Bearer tokens for booking systems and scripts; only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL,
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,        -- comma-separated
    sites         TEXT NOT NULL,        -- "*" or comma-separated
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);

-- Operator sessions (the web UI's cookies and `POST /api/v1/session`); hashed like tokens.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Who changed what, when: every write through the API or the CLI.
CREATE TABLE audit_trail (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_trail_by_time ON audit_trail (at);
