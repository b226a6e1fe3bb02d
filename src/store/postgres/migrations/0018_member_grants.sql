-- Per-member grants and withdrawals on top of the role: space-separated
-- permission names (`leads:approve audit:view`); empty for none. The
-- effective set is computed in one place (domain::access::effective). The
-- columns live on memberships, so its row-level security covers them.
ALTER TABLE memberships ADD COLUMN grants text NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN withdrawals text NOT NULL DEFAULT '';

-- Analytics over one assignee's leads (analytics:view_own): sb_analytics
-- gains the assignee (NULL: every lead), otherwise as in 0009.
DROP FUNCTION public.sb_analytics(uuid, timestamptz, timestamptz, timestamptz);
CREATE FUNCTION public.sb_analytics(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                    p_now timestamptz, p_assignee uuid)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH l AS (
        SELECT source, stage, spam, qual_category, created_at, first_response_at, sla_due_at
          FROM public.leads
         WHERE (p_tenant IS NULL OR tenant_id = p_tenant)
           AND created_at >= p_from AND created_at < p_to
           AND (p_assignee IS NULL OR assignee_id = p_assignee)
    ), ham AS (SELECT * FROM l WHERE NOT spam)
    SELECT jsonb_build_object(
        'leads', (SELECT count(*) FROM l),
        'spam', (SELECT count(*) FROM l WHERE spam),
        'by_day', coalesce((SELECT jsonb_agg(jsonb_build_object('day', d, 'leads', n, 'spam', s)
                                             ORDER BY d)
                              FROM (SELECT (created_at AT TIME ZONE 'UTC')::pg_catalog.date AS d,
                                           count(*) AS n, count(*) FILTER (WHERE spam) AS s
                                      FROM l GROUP BY 1) x), '[]'::pg_catalog.jsonb),
        'by_source', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                ORDER BY n DESC, name COLLATE pg_catalog."C")
                                 FROM (SELECT source AS name, count(*) AS n FROM l GROUP BY 1) x),
                              '[]'::pg_catalog.jsonb),
        'by_stage', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                               ORDER BY n DESC, name COLLATE pg_catalog."C")
                                FROM (SELECT stage AS name, count(*) AS n FROM ham GROUP BY 1) x),
                             '[]'::pg_catalog.jsonb),
        'qualification', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                    ORDER BY n DESC, name COLLATE pg_catalog."C")
                                     FROM (SELECT coalesce(qual_category, 'unqualified') AS name,
                                                  count(*) AS n FROM ham GROUP BY 1) x),
                                  '[]'::pg_catalog.jsonb),
        'met', (SELECT count(*) FROM ham
                 WHERE first_response_at IS NOT NULL AND first_response_at <= sla_due_at),
        'missed', (SELECT count(*) FROM ham
                    WHERE first_response_at > sla_due_at
                       OR (first_response_at IS NULL AND sla_due_at < p_now)),
        'open', (SELECT count(*) FROM ham WHERE first_response_at IS NULL AND sla_due_at >= p_now),
        'responded', (SELECT count(*) FROM ham WHERE first_response_at IS NOT NULL),
        'median_ms', (SELECT percentile_disc(0.5) WITHIN GROUP
                              (ORDER BY extract(epoch FROM first_response_at - created_at) * 1000)
                        FROM ham WHERE first_response_at IS NOT NULL),
        'p90_ms', (SELECT percentile_disc(0.9) WITHIN GROUP
                           (ORDER BY extract(epoch FROM first_response_at - created_at) * 1000)
                     FROM ham WHERE first_response_at IS NOT NULL)
    )
$$;

REVOKE ALL ON FUNCTION public.sb_analytics(uuid, timestamptz, timestamptz, timestamptz, uuid) FROM PUBLIC;
