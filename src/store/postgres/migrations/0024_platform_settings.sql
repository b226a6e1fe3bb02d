-- Platform settings and a tenant's user limit (issue 16), as in the SQLite
-- store's 0020_platform_settings.sql. A platform admin may override the
-- tier's member limit of one tenant (NULL: the tier's). The platform
-- settings are one row (id 1) of JSON: the defaults a new tenant gets when
-- its creation does not say, and whether tenant admins may delete their
-- tenant; no row reads as the built-in defaults. The table belongs to no
-- tenant, so it has no RLS (like users and tenants); `switchboard migrate`
-- grants the application role DML on it with every table.
ALTER TABLE tenants ADD COLUMN user_limit bigint CHECK (user_limit > 0);
CREATE TABLE platform_settings (
    id smallint PRIMARY KEY CHECK (id = 1),
    settings jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
