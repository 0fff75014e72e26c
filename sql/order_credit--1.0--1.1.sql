-- order_credit 1.0 -> 1.1
\echo Use "ALTER EXTENSION order_credit UPDATE TO '1.1'" to load this file. \quit

-- Backups: the tables holding user data and the sequences behind them become
-- configuration objects, so pg_dump writes their rows (src/sql/95_backup.sql).
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
