-- Inputs the catalog fuzzer (test/fuzz/catalog_fuzz.sh) found answered with
-- a SQLSTATE outside the contract. Each is refused with 22023 (22004 for
-- NULL) now.
\set VERBOSITY default
SELECT credit_limit FROM order_credit.create_account('fz', 100);
SELECT order_credit.set_stock('fz-sku', 10) IS NOT NULL AS stocked;

-- An expiry past the last timestamp (now + interval overflows): was 22008.
SELECT order_credit.reserve_credit('fz', 1, 'o1', '178000000 years');
SELECT ok FROM order_credit.try_reserve_credit('fz', 1, 'o1', '2147483647 days');
SELECT order_credit.reserve_stock('fz-sku', 1, 'o1', '2562047787 hours');
SELECT ok FROM order_credit.try_reserve_stock('fz-sku', 1, 'o1', '178000000 years');
SELECT order_credit.reserve_stock('[{"sku": "fz-sku", "quantity": 1}]'::jsonb, 'o1', '178000000 years');
SELECT order_credit.place_order('o1', '[{"sku": "fz-sku", "quantity": 1, "unit_price": 1}]', 'fz', '178000000 years');
SELECT state FROM order_credit.idempotency_begin('k', 'fp', '178000000 years');
SELECT order_credit.acquire_lease('k', 'me', '178000000 years');
SELECT order_credit.renew_lease('k', 'me', 1, '178000000 years');
-- A long one that fits is still accepted; lock() clamps its timeout.
SELECT status, expires_at > statement_timestamp() + interval '999 years' AS far
  FROM order_credit.reserve_credit('fz', 1, 'o2', '1000 years');
SELECT order_credit.lock('k', '178000000 years');

-- A regrole holding an OID that is no role: was 42601 (a syntax error in the
-- GRANT / REVOKE built from it). revoke_access(NULL) likewise.
SELECT order_credit.grant_app(0::oid::regrole);
SELECT order_credit.grant_admin(4294967295::oid::regrole);
SELECT order_credit.revoke_access(0::oid::regrole);
SELECT order_credit.revoke_access(NULL);
