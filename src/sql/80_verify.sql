-- ===================================================================
-- verify(): every invariant, one row per violation (no rows: all hold)
-- ===================================================================
-- Areas add checks by adding a branch to order_credit._verify_checks
-- (credit here; stock and orders in their own files).

CREATE FUNCTION order_credit._verify_credit()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- Balances on the account row equal what the ledger adds up to.
    WITH sums AS (
        SELECT l.account,
               coalesce(sum(l.amount) FILTER (WHERE l.kind = 'hold'), 0)
             - coalesce(sum(l.amount) FILTER (WHERE l.kind IN ('capture', 'void', 'expire')), 0) AS pending,
               coalesce(sum(l.amount) FILTER (WHERE l.kind = 'capture'), 0)
             - coalesce(sum(l.amount) FILTER (WHERE l.kind IN ('reverse', 'payment')), 0) AS posted
          FROM order_credit.ledger l GROUP BY l.account)
    SELECT 'ledger_balance', a.account,
           format('posted=%s, ledger posted=%s, pending=%s, ledger pending=%s',
                  a.posted, coalesce(s.posted, 0), a.pending, coalesce(s.pending, 0))
      FROM order_credit.accounts a LEFT JOIN sums s USING (account)
     WHERE a.posted <> coalesce(s.posted, 0) OR a.pending <> coalesce(s.pending, 0)
    UNION ALL
    -- pending equals the sum of holds still pending in storage.
    SELECT 'pending_holds', a.account, format('pending=%s, sum of pending holds=%s', a.pending, h.s)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS s FROM order_credit.holds
                           WHERE account = a.account AND status = 'pending') h
     WHERE a.pending <> h.s
    UNION ALL
    -- The newest ledger entry carries the account's current balances.
    SELECT 'ledger_last_entry', a.account,
           format('posted=%s pending=%s, last entry %s has posted_after=%s pending_after=%s',
                  a.posted, a.pending, l.entry_id, l.posted_after, l.pending_after)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT entry_id, posted_after, pending_after FROM order_credit.ledger
                           WHERE account = a.account ORDER BY entry_id DESC LIMIT 1) l
     WHERE l.posted_after <> a.posted OR l.pending_after <> a.pending
    UNION ALL
    -- Every entry follows from the one before it.
    SELECT 'ledger_chain', c.account,
           format('entry %s (%s %s) goes from posted=%s pending=%s to posted=%s pending=%s',
                  c.entry_id, c.kind, c.amount, c.prev_posted, c.prev_pending, c.posted_after, c.pending_after)
      FROM (SELECT l.*,
                   coalesce(lag(l.posted_after) OVER w, 0) AS prev_posted,
                   coalesce(lag(l.pending_after) OVER w, 0) AS prev_pending
              FROM order_credit.ledger l WINDOW w AS (PARTITION BY l.account ORDER BY l.entry_id)) c
     WHERE c.posted_after <> c.prev_posted + CASE c.kind WHEN 'capture' THEN c.amount
                                                         WHEN 'reverse' THEN -c.amount
                                                         WHEN 'payment' THEN -c.amount ELSE 0 END
        OR c.pending_after <> c.prev_pending + CASE c.kind WHEN 'hold' THEN c.amount
                                                           WHEN 'capture' THEN -c.amount
                                                           WHEN 'void' THEN -c.amount
                                                           WHEN 'expire' THEN -c.amount ELSE 0 END
    UNION ALL
    SELECT 'ledger_orphan', l.account, format('%s ledger entries for an unknown account', count(*))
      FROM order_credit.ledger l
     WHERE NOT EXISTS (SELECT 1 FROM order_credit.accounts a WHERE a.account = l.account)
     GROUP BY l.account
    UNION ALL
    -- next_expiry must never lie after a pending hold's expiry (it gates exact reads).
    SELECT 'next_expiry', a.account, format('next_expiry=%s, earliest pending hold expires %s', a.next_expiry, h.m)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT min(expires_at) AS m FROM order_credit.holds
                           WHERE account = a.account AND status = 'pending') h
     WHERE h.m IS NOT NULL AND (a.next_expiry IS NULL OR a.next_expiry > h.m)
    UNION ALL
    SELECT 'hold_captured', h.order_ref, format('status=%s, captured=%s', h.status, h.captured)
      FROM order_credit.holds h
     WHERE (h.status IN ('captured', 'reversed')) <> (h.captured > 0)
$$;

COMMENT ON FUNCTION order_credit._verify_credit() IS
    'Credit-line invariant checks used by verify().';
