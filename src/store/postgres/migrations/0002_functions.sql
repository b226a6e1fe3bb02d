-- The explicit cross-tenant paths. Each is SECURITY DEFINER (runs as the
-- owner, which the owner_functions policies let see every row), does one
-- narrow thing, and is executable only by the roles `switchboard migrate`
-- grants it to (PUBLIC's default EXECUTE is revoked).

-- Live streams in other processes learn of new events from this NOTIFY,
-- sent at commit of the transaction that appended the event. Payload:
-- "<tenant id>:<event id>"; the body is read from the log.
CREATE FUNCTION sb_notify_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('switchboard_events', NEW.tenant_id::text || ':' || NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION sb_notify_event();

-- Appends to a tenant's event log in one round trip. Not SECURITY DEFINER:
-- it runs as the caller, under the caller's tenant (RLS applies). The
-- transaction-scoped advisory lock, taken before the id is drawn and held to
-- commit, makes a tenant's event ids commit in order, so a live stream
-- resuming after id N never skips a smaller id that commits later.
CREATE FUNCTION sb_append_event(p_tenant uuid, p_kind text, p_data jsonb, p_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant::text, 0));
    INSERT INTO events (tenant_id, kind, data, created_at)
        VALUES (p_tenant, p_kind, p_data, p_at) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Usage counters for tenant listings (platform admins list every tenant;
-- a member lists theirs): counts only, never rows.
CREATE FUNCTION sb_tenant_usage(p_tenant uuid, OUT users bigint, OUT leads_this_month bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT (SELECT count(*) FROM memberships m WHERE m.tenant_id = p_tenant),
           (SELECT coalesce(max(u.count), 0) FROM lead_usage u
             WHERE u.tenant_id = p_tenant
               AND u.month = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'))
$$;

-- A user's memberships across tenants (sign-in, /me, "my tenants").
CREATE FUNCTION sb_member_tenants(p_user uuid)
RETURNS TABLE (tenant_id uuid, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT m.tenant_id, m.role FROM memberships m WHERE m.user_id = p_user
$$;

-- Ingest: which tenant an API key belongs to, by the key's hash.
CREATE FUNCTION sb_api_key_owner(p_key_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT k.tenant_id, k.id, k.revoked_at IS NOT NULL FROM api_keys k
     WHERE k.key_hash = p_key_hash AND k.scope = 'leads:ingest'
$$;

-- Invitation acceptance: which tenant a still-valid token belongs to. The
-- acceptance itself then runs as a normal tenant-scoped transaction.
CREATE FUNCTION sb_invitation_by_token(p_token_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT i.tenant_id, i.id, i.email FROM invitations i
     WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL
       AND i.revoked_at IS NULL AND i.expires_at > now()
$$;

-- Idempotency keys are honoured for at least 24 h; the sweep expires old ones.
CREATE FUNCTION sb_expire_idempotency_keys(p_before timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < p_before RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- The SLA sweep across tenants: claims up to p_limit due alerts by setting
-- their flag, skipping rows another sweeper holds (FOR UPDATE SKIP LOCKED),
-- so with many processes every alert is claimed exactly once. The row locks
-- belong to the caller's transaction: the caller writes the timeline
-- entries, events and mail for the claimed rows in that same transaction
-- (under each row's tenant), so a failure un-claims them all.
CREATE FUNCTION sb_claim_sla_breaches(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, name text, sla_due_at timestamptz,
               tenant_name text, settings jsonb)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH due AS (
        SELECT l.tenant_id, l.id FROM leads l
         WHERE NOT l.responded AND NOT l.spam AND l.sla_breached_alerted_at IS NULL
           AND l.sla_due_at <= p_now
         ORDER BY l.sla_due_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE leads l SET sla_breached_alerted_at = p_now,
               sla_at_risk_alerted_at = coalesce(l.sla_at_risk_alerted_at, p_now)
          FROM due WHERE l.tenant_id = due.tenant_id AND l.id = due.id
        RETURNING l.tenant_id, l.id, l.name, l.sla_due_at
    )
    SELECT c.tenant_id, c.id, c.name, c.sla_due_at, t.name, t.settings
      FROM claimed c JOIN tenants t ON t.id = c.tenant_id
     ORDER BY c.tenant_id, c.id
$$;

CREATE FUNCTION sb_claim_sla_risks(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, name text, sla_due_at timestamptz,
               tenant_name text, settings jsonb)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH due AS (
        SELECT l.tenant_id, l.id FROM leads l
         WHERE NOT l.responded AND NOT l.spam AND l.sla_at_risk_alerted_at IS NULL
           AND l.at_risk_at <= p_now
         ORDER BY l.at_risk_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE leads l SET sla_at_risk_alerted_at = p_now
          FROM due WHERE l.tenant_id = due.tenant_id AND l.id = due.id
        RETURNING l.tenant_id, l.id, l.name, l.sla_due_at
    )
    SELECT c.tenant_id, c.id, c.name, c.sla_due_at, t.name, t.settings
      FROM claimed c JOIN tenants t ON t.id = c.tenant_id
     ORDER BY c.tenant_id, c.id
$$;

REVOKE ALL ON FUNCTION sb_tenant_usage(uuid), sb_member_tenants(uuid), sb_api_key_owner(text),
    sb_invitation_by_token(text), sb_expire_idempotency_keys(timestamptz),
    sb_claim_sla_breaches(timestamptz, integer), sb_claim_sla_risks(timestamptz, integer)
    FROM PUBLIC;
