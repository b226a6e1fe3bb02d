-- A playground reply records the knowledge snippets its prompt carried
-- (JSON: document id, title, chunk), so the transcript says what was used.
ALTER TABLE playground_messages ADD COLUMN snippets TEXT;
