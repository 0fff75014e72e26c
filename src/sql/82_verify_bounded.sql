-- ===================================================================
-- Bounded verification for DBAs: verify_account(account) and
-- verify_sku(sku) run verify()'s checks that can be answered from one
-- account's (one SKU's) own rows through their indexes, so that their cost
-- does not grow with the database; run them every minute on the accounts
-- and SKUs that changed, and verify() itself in a quiet hour
-- (docs/lifecycle.md, "Verifying a large database").
-- ===================================================================

CREATE FUNCTION order_credit.verify_account(account text)
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH a AS (SELECT * FROM order_credit.accounts WHERE account = $1),
    l AS (SELECT l.*,
                 coalesce(lag(l.posted_after) OVER w, 0) AS prev_posted,
                 coalesce(lag(l.pending_after) OVER w, 0) AS prev_pending,
                 row_number() OVER (ORDER BY l.entry_id DESC) AS from_last
            FROM order_credit.ledger l WHERE l.account = $1 WINDOW w AS (ORDER BY l.entry_id)),
    s AS (SELECT coalesce(sum(amount) FILTER (WHERE kind = 'hold'), 0)
               - coalesce(sum(amount) FILTER (WHERE kind IN ('capture', 'void', 'expire')), 0) AS pending,
                 coalesce(sum(amount) FILTER (WHERE kind = 'capture'), 0)
               - coalesce(sum(amount) FILTER (WHERE kind IN ('reverse', 'payment')), 0) AS posted
            FROM l),
    h AS (SELECT coalesce(sum(amount), 0) AS s, min(expires_at) AS m
            FROM order_credit.holds WHERE account = $1 AND status = 'pending')
    SELECT 'account', $1, 'no such account' WHERE NOT EXISTS (SELECT 1 FROM a)
    UNION ALL
    SELECT 'ledger_balance', a.account,
           format('posted=%s, ledger posted=%s, pending=%s, ledger pending=%s', a.posted, s.posted, a.pending, s.pending)
      FROM a, s WHERE a.posted <> s.posted OR a.pending <> s.pending
    UNION ALL
    SELECT 'pending_holds', a.account, format('pending=%s, sum of pending holds=%s', a.pending, h.s)
      FROM a, h WHERE a.pending <> h.s
    UNION ALL
    SELECT 'ledger_last_entry', a.account,
           format('posted=%s pending=%s, last entry %s has posted_after=%s pending_after=%s',
                  a.posted, a.pending, l.entry_id, l.posted_after, l.pending_after)
      FROM a JOIN l ON l.from_last = 1
     WHERE l.posted_after <> a.posted OR l.pending_after <> a.pending
    UNION ALL
    SELECT 'ledger_chain', l.account,
           format('entry %s (%s %s) goes from posted=%s pending=%s to posted=%s pending=%s',
                  l.entry_id, l.kind, l.amount, l.prev_posted, l.prev_pending, l.posted_after, l.pending_after)
      FROM l
     WHERE l.posted_after <> l.prev_posted + CASE l.kind WHEN 'capture' THEN l.amount
                                                         WHEN 'reverse' THEN -l.amount
                                                         WHEN 'payment' THEN -l.amount ELSE 0 END
        OR l.pending_after <> l.prev_pending + CASE l.kind WHEN 'hold' THEN l.amount
                                                           WHEN 'capture' THEN -l.amount
                                                           WHEN 'void' THEN -l.amount
                                                           WHEN 'expire' THEN -l.amount ELSE 0 END
    UNION ALL
    SELECT 'next_expiry', a.account, format('next_expiry=%s, earliest pending hold expires %s', a.next_expiry, h.m)
      FROM a, h WHERE h.m IS NOT NULL AND (a.next_expiry IS NULL OR a.next_expiry > h.m)
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify_account(text) IS
    'verify()''s checks of one account, through its own rows only (its ledger entries, its pending holds): balances equal the ledger, pending equals the pending holds, the ledger chain, the last entry, next_expiry; ''no such account'' for an unknown one. No rows when all hold.';

CREATE FUNCTION order_credit.verify_sku(sku text)
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH i AS (SELECT * FROM order_credit.items WHERE sku = $1),
    b AS (SELECT * FROM order_credit.stock_buckets WHERE sku = $1),
    c AS (SELECT * FROM order_credit.reservation_claims WHERE sku = $1),
    parts AS (SELECT p.b AS bucket, sum(p.q)::bigint AS q
                FROM c, unnest(coalesce(c.part_buckets, '{0}'), coalesce(c.part_qty, ARRAY[c.quantity])) AS p(b, q)
               GROUP BY p.b),
    au AS (SELECT a.*, coalesce(lag(a.on_hand_after) OVER (ORDER BY a.audit_id), 0) AS prev,
                  row_number() OVER (ORDER BY a.audit_id DESC) AS from_last
             FROM order_credit.stock_audit a WHERE a.sku = $1)
    SELECT 'item', $1, 'no such item' WHERE NOT EXISTS (SELECT 1 FROM i)
    UNION ALL
    SELECT 'stock_reserved', $1 || '#' || coalesce(b.bucket, p.bucket),
           format('reserved=%s, sum of claimed reservation parts=%s', b.reserved, coalesce(p.q, 0))
      FROM b FULL JOIN parts p ON p.bucket = b.bucket
     WHERE b.reserved IS DISTINCT FROM coalesce(p.q, 0)
    UNION ALL
    SELECT 'claim_reservation', c.sku || '/' || c.reservation_id,
           CASE WHEN r.reservation_id IS NULL THEN 'no such reservation'
                ELSE format('reservation %s/%s: status=%s, quantity=%s, expires_at=%s; claim: quantity=%s, expires_at=%s',
                            r.order_ref, r.sku, r.status, r.quantity, r.expires_at, c.quantity, c.expires_at) END
      FROM c LEFT JOIN order_credit.reservations r ON r.reservation_id = c.reservation_id
     WHERE r.reservation_id IS NULL OR r.status <> 'active' OR r.sku <> c.sku
        OR r.quantity <> c.quantity
        OR coalesce(r.part_buckets, '{0}') <> coalesce(c.part_buckets, '{0}')
        OR coalesce(r.part_qty, ARRAY[r.quantity]) <> coalesce(c.part_qty, ARRAY[c.quantity])
        OR coalesce(r.expires_at, 'infinity') <> c.expires_at
    UNION ALL
    SELECT 'stock_oversold', b.sku || '#' || b.bucket, format('on_hand=%s, reserved=%s', b.on_hand, b.reserved)
      FROM b WHERE b.on_hand < 0 OR b.reserved < 0 OR b.reserved > b.on_hand
    UNION ALL
    SELECT 'stock_buckets', i.sku, format('buckets=%s, rows=%s, highest bucket=%s', i.buckets, n.n, n.hi)
      FROM i, (SELECT count(*) AS n, max(bucket) AS hi FROM b) n
     WHERE n.n <> i.buckets OR n.hi <> i.buckets - 1
    UNION ALL
    SELECT 'stock_audit', i.sku, format('on_hand=%s, audit sum=%s, last on_hand_after=%s', o.on_hand, s.s, l.on_hand_after)
      FROM i, (SELECT coalesce(sum(on_hand), 0) AS on_hand FROM b) o,
           (SELECT coalesce(sum(delta), 0) AS s FROM au) s
      LEFT JOIN au l ON l.from_last = 1
     WHERE o.on_hand <> s.s OR l.on_hand_after IS DISTINCT FROM o.on_hand
    UNION ALL
    SELECT 'stock_audit_chain', au.sku, format('entry %s (%s %s) goes from on_hand=%s to %s',
                                               au.audit_id, au.kind, au.delta, au.prev, au.on_hand_after)
      FROM au WHERE au.on_hand_after <> au.prev + au.delta
    UNION ALL
    SELECT 'stock_alert', i.sku,
           format('threshold=%s, buckets=%s, buckets with a share=%s, sum of shares=%s, lowest share=%s',
                  i.alert_threshold, x.n, x.shares, x.s, x.lo)
      FROM i, (SELECT count(*) AS n, count(alert_below) AS shares, sum(alert_below) AS s,
                      min(alert_below) AS lo FROM b) x
     WHERE CASE WHEN i.alert_threshold IS NULL THEN x.shares > 0
                ELSE x.shares <> x.n OR x.s <> i.alert_threshold OR x.lo < 0 END
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify_sku(text) IS
    'verify()''s checks of one SKU, through its own rows only (its buckets, claims, audit entries): each bucket''s reserved equals its claims, every claim is of an active reservation, no bucket oversold, buckets 0..n-1, on_hand equals the audit and its chain, the alert shares add up to the threshold; ''no such item'' for an unknown one. No rows when all hold.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.verify_account(text)', 'admin'),
    ('order_credit.verify_sku(text)', 'admin');
