-- A playground reply records the knowledge snippets its prompt carried
-- (document id, title, chunk), so the transcript says what was used; the
-- same as the SQLite store's 0011_playground_snippets.sql.
ALTER TABLE playground_messages ADD COLUMN snippets jsonb;
