-- ===================================================================
-- Backups: every table that holds user data, and every sequence behind
-- one, is an extension configuration object, so pg_dump writes its rows
-- (and the sequences' positions) beside CREATE EXTENSION. No install row
-- lives in these tables, hence no filter. function_access holds only the
-- install script's rows and is not dumped. See README, "Backups".
-- (One call per statement: each call updates pg_extension.)
-- ===================================================================

SELECT pg_catalog.pg_extension_config_dump('order_credit.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.payments', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.items', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_buckets', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservation_claims', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.idempotency_keys', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.leases', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.processed_events', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.orders', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds_hold_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations_reservation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit_audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.lease_tokens', '');
