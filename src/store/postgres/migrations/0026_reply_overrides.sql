-- A playground reply keeps the session's overrides it was generated with
-- (issue 14), as in the SQLite store's 0022_reply_overrides.sql: the
-- temperature and reply length, when the session set them (NULL: the agent
-- version's own). Nullable columns, no rewrite.
ALTER TABLE playground_messages
    ADD COLUMN temperature real,
    ADD COLUMN max_tokens integer;
