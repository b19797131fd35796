-- What the web UI adds.
-- The language each account chose (sv, da, en); NULL: not chosen, guessed from the browser.
ALTER TABLE accounts ADD COLUMN language TEXT;
-- Acknowledging an alarm closes it with who did it and their note.
ALTER TABLE alarms ADD COLUMN acked_by TEXT;
ALTER TABLE alarms ADD COLUMN ack_note TEXT;
