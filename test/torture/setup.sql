-- Starting state of one torture database (test/torture/torture.sh): credit
-- lines, items of 1, 4 and 8 buckets (two of them scarce, so that the
-- workload runs out of units), a blocked account, the counters the named
-- lock protects. Run once per database, before the workload.
\set ON_ERROR_STOP 1
\set QUIET 1
SELECT count(order_credit.create_account('acct-' || i, 400)) FROM generate_series(0, 11) i;
SELECT order_credit.create_account('acct-blocked', 1000);
SELECT order_credit.block_account('acct-blocked', 'torture');
SELECT order_credit.set_stock('sku-a', 100000);
SELECT order_credit.set_stock('sku-b', 100000, 4);
SELECT order_credit.set_stock('sku-c', 5000, 8);
SELECT order_credit.set_stock('sku-scarce', 60, 4);
SELECT order_credit.set_stock('sku-last', 20);
CREATE TABLE public.torture_counter (k text PRIMARY KEY, v bigint NOT NULL);
INSERT INTO public.torture_counter SELECT 'ctr-' || i, 0 FROM generate_series(0, 3) i;
CREATE EXTENSION IF NOT EXISTS amcheck;
