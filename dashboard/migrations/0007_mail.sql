-- Pass links by e-mail: a durable outbox that the sender drains with retries.
-- A row is queued in the same transaction as the pass (or the new link) it carries, so no
-- link is ever handed out without its mail, and a restart loses none. The link-bearing
-- bodies are wiped (set NULL) once the mail is sent or given up: a stolen backup holds links
-- only for mail not yet sent. The same SQL runs on SQLite and PostgreSQL.
CREATE TABLE mail_outbox (
    id          TEXT PRIMARY KEY,
    pass        TEXT NOT NULL,
    n           BIGINT NOT NULL,        -- 1 for the pass's first mail, 2 for the next...
    recipient   TEXT NOT NULL,          -- the address only
    to_name     TEXT NOT NULL,          -- the member's name, for the To header
    subject     TEXT NOT NULL,
    body_text   TEXT,                   -- NULL once sent or given up (it holds the link)
    body_html   TEXT,                   -- likewise
    language    TEXT NOT NULL,          -- sv, da or en: the language it was written in
    queued_at   BIGINT NOT NULL,
    queued_by   TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,        -- also the lease of a sender that took the row
    last_error  TEXT,
    sent_at     BIGINT,
    gave_up_at  BIGINT,
    UNIQUE (pass, n)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_try_at);
-- The language a member's mail is written in; NULL: their site's language.
ALTER TABLE members ADD COLUMN language TEXT;
