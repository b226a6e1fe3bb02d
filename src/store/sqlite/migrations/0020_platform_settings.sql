-- Platform settings and a tenant's user limit (issue 16). A platform admin
-- may override the tier's member limit of one tenant (NULL: the tier's).
-- The platform settings are one row (id 1) of JSON: the defaults a new
-- tenant gets when its creation does not say, and whether tenant admins may
-- delete their tenant; no row reads as the built-in defaults.
ALTER TABLE tenants ADD COLUMN user_limit INTEGER CHECK (user_limit > 0);
CREATE TABLE platform_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
