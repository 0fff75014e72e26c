-- ===================================================================
-- Coordination: idempotency keys, named locks, leases with fencing
-- tokens, exactly-once events. Contract: docs/reference.md; how it works:
-- docs/coordination.md.
-- ===================================================================

CREATE TABLE order_credit.idempotency_keys (
    key               text PRIMARY KEY,
    fingerprint       text NOT NULL,
    state             text NOT NULL DEFAULT 'in_progress',
    response          jsonb,
    response_code     int,
    recovery_point    text,
    -- the lease as requested (renewed by each checkpoint) and when it lapses;
    -- NULL: protected only by the transaction that began or resumed the key
    lease             interval,
    lease_expires_at  timestamptz,
    resumed           int NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    completed_at      timestamptz
);
CREATE INDEX idempotency_keys_created ON order_credit.idempotency_keys (created_at);
COMMENT ON TABLE order_credit.idempotency_keys IS
    'One row per idempotency key: in_progress (begun) or completed (response stored for replay). Kept order_credit.idempotency_ttl, then purged.';

CREATE TABLE order_credit.leases (
    key          text PRIMARY KEY,
    owner        text,   -- NULL: free
    token        bigint NOT NULL,
    expires_at   timestamptz,
    acquired_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE order_credit.leases IS
    'One row per lease key. owner NULL: released. A lease past expires_at may be taken by anyone. Tokens come from the sequence lease_tokens, so they keep growing after the purge deletes a row released or lapsed more than order_credit.lease_retention ago.';
CREATE SEQUENCE order_credit.lease_tokens;
COMMENT ON SEQUENCE order_credit.lease_tokens IS
    'Fencing tokens of every lease: each acquire or break draws the next.';

CREATE TABLE order_credit.processed_events (
    source        text NOT NULL,
    event_id      text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (source, event_id)
);
CREATE INDEX processed_events_at ON order_credit.processed_events (processed_at);
COMMENT ON TABLE order_credit.processed_events IS
    'Events process_once() has answered true for (committed with the caller''s writes). Kept order_credit.event_retention, then purged.';

-- ------------------------------------------------------------------
-- Idempotency keys
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.idempotency_begin(key text, fingerprint text,
                                               lease interval DEFAULT NULL,
                                               wait boolean DEFAULT false)
    RETURNS TABLE (state text, response jsonb, response_code int,
                   recovery_point text, retry_after interval)
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_begin';
COMMENT ON FUNCTION order_credit.idempotency_begin(text, text, interval, boolean) IS
    'Starts (new), replays (replay: stored response and code), refuses (in_progress: another transaction or live lease holds the key; retry_after when a lease is known) or resumes (resume: a lease lapsed; recovery_point) an idempotent request. Same key, other fingerprint: OC009. wait = true waits (order_credit.lock_timeout, then 55P03) for the holding transaction instead of answering in_progress.';

CREATE FUNCTION order_credit.idempotency_checkpoint(key text, recovery_point text)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_checkpoint';
COMMENT ON FUNCTION order_credit.idempotency_checkpoint(text, text) IS
    'Records how far an in-progress request got (returned as recovery_point by a later resume) and renews its lease by the lease given to begin. OC006 unknown key, OC007 already completed.';

CREATE FUNCTION order_credit.idempotency_complete(key text, response jsonb,
                                                  response_code int DEFAULT 200)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_complete';
COMMENT ON FUNCTION order_credit.idempotency_complete(text, jsonb, int) IS
    'Stores the response of an in-progress key; every later begin replays it. Completing again with the same response changes nothing; another response raises OC009. OC006 if the key was never begun. response_code 100..599.';

-- ------------------------------------------------------------------
-- Named locks
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.lock(key text, timeout interval DEFAULT NULL)
    RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_lock';
COMMENT ON FUNCTION order_credit.lock(text, interval) IS
    'Takes a transaction-scoped exclusive lock named key, in the extension''s own advisory-lock space (pg_locks: classid/objid = hashtextextended(key, 20291) high/low 32 bits, objsubid = 20291). Waits at most timeout (NULL: order_credit.lock_timeout), then 55P03.';

CREATE FUNCTION order_credit.try_lock(key text)
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_try_lock';
COMMENT ON FUNCTION order_credit.try_lock(text) IS
    'Like lock(key) but never waits: false when another transaction holds the lock.';

-- ------------------------------------------------------------------
-- Leases with fencing tokens
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.acquire_lease(key text, owner text, ttl interval)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_acquire_lease_v1_1';
COMMENT ON FUNCTION order_credit.acquire_lease(text, text, interval) IS
    'Acquires the lease key for owner until the database clock passes now + ttl and returns its fencing token (larger than every token issued before for key); NULL while another owner holds a live lease. The same owner acquiring its live lease again gets its current token, unchanged.';

CREATE FUNCTION order_credit.renew_lease(key text, owner text, token bigint, ttl interval)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_renew_lease';
COMMENT ON FUNCTION order_credit.renew_lease(text, text, bigint, interval) IS
    'Extends the lease to now + ttl when owner still holds it with token (also after it lapsed, as long as nobody acquired it since); false otherwise.';

CREATE FUNCTION order_credit.release_lease(key text, owner text, token bigint)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_release_lease';
COMMENT ON FUNCTION order_credit.release_lease(text, text, bigint) IS
    'Frees the lease when owner holds it with token; false otherwise (already released, or acquired by someone else since). The token is never reused.';

CREATE FUNCTION order_credit.break_lease(key text)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_break_lease';
COMMENT ON FUNCTION order_credit.break_lease(text) IS
    'Administrators: frees lease key whoever holds it and returns its new fencing token, which makes the last holder''s token stale (OC011 at its next check_fence). Waits for transactions that checked the fence to end. OC006 if the key has no lease.';

CREATE FUNCTION order_credit.check_fence(key text, token bigint)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_check_fence';
COMMENT ON FUNCTION order_credit.check_fence(text, bigint) IS
    'Raises OC011 unless token is the newest fencing token of lease key (OC006 if the key never had a lease). Share-locks the lease row until the transaction ends, so no newer token can be issued before the caller''s fenced writes commit.';

-- ------------------------------------------------------------------
-- Exactly-once events
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.process_once(source text, event_id text)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_process_once';
COMMENT ON FUNCTION order_credit.process_once(text, text) IS
    'True the first time (source, event_id) is seen, false afterwards; atomic with the caller''s transaction (a rollback makes the event unprocessed again). A concurrent duplicate waits for the first transaction (order_credit.lock_timeout), then answers false, or true if the first rolled back.';

-- ------------------------------------------------------------------
-- Purge (called by expire_due)
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit._purge_coordination(max_rows int)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_purge_coordination_v1_1';
COMMENT ON FUNCTION order_credit._purge_coordination(int) IS
    'Deletes at most max_rows rows: idempotency keys created more than order_credit.idempotency_ttl ago (unless their lease is live), then events processed more than order_credit.event_retention ago, then leases released or lapsed more than order_credit.lease_retention ago. Skips rows locked by others. Returns the number deleted. Called by expire_due().';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.idempotency_begin(text, text, interval, boolean)', 'app'),
    ('order_credit.idempotency_checkpoint(text, text)', 'app'),
    ('order_credit.idempotency_complete(text, jsonb, int)', 'app'),
    ('order_credit.lock(text, interval)', 'app'),
    ('order_credit.try_lock(text)', 'app'),
    ('order_credit.acquire_lease(text, text, interval)', 'app'),
    ('order_credit.renew_lease(text, text, bigint, interval)', 'app'),
    ('order_credit.release_lease(text, text, bigint)', 'app'),
    ('order_credit.check_fence(text, bigint)', 'app'),
    ('order_credit.process_once(text, text)', 'app'),
    ('order_credit.break_lease(text)', 'admin');
