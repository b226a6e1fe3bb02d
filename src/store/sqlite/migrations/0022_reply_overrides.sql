-- A playground reply keeps the session's overrides it was generated with
-- (issue 14): the temperature and reply length, when the session set them
-- (NULL: the agent version's own). Nullable columns, no rewrite.
ALTER TABLE playground_messages ADD COLUMN temperature REAL;
ALTER TABLE playground_messages ADD COLUMN max_tokens INTEGER;
