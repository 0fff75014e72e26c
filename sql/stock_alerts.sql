-- Stock alerts: set_stock_alert's arguments and errors, the shares of a
-- striped item, the stock_alerts view, and the crossing rule as the
-- statements reach it (_stock_crossed). What listeners receive, and when,
-- is tested with real listeners: test/isolation/specs/stock_alerts.spec and
-- test/monitoring/notify_listener.sh.
\set VERBOSITY default
\i sql/include/err.sql
SELECT sku, available FROM order_credit.set_stock('alert-tea', 20);
SELECT sku, available FROM order_credit.set_stock('alert-rice', 41, 4);

-- Arguments: a negative threshold (22023), an unknown SKU (OC005), a NULL
-- or empty SKU (22004, 22023).
SELECT pg_temp.err($$SELECT order_credit.set_stock_alert('alert-tea', -1)$$);
SELECT pg_temp.err($$SELECT order_credit.set_stock_alert('nope', 5)$$);
SELECT pg_temp.err($$SELECT order_credit.set_stock_alert(NULL, 5)$$);
SELECT pg_temp.err($$SELECT order_credit.set_stock_alert('', 5)$$);
-- Nothing was set by the refused calls.
SELECT count(*) AS alerts FROM order_credit.stock_alerts;

-- Set: the item's threshold, each bucket's share (they add up to it).
SELECT * FROM order_credit.set_stock_alert('alert-tea', 5);
SELECT * FROM order_credit.set_stock_alert('alert-rice', 10);
SELECT bucket, on_hand - reserved AS available, alert_below
  FROM order_credit.stock_buckets WHERE sku = 'alert-rice' ORDER BY bucket;
-- 0 is allowed: an alert when the item (a bucket) sells out.
SELECT * FROM order_credit.set_stock_alert('alert-tea', 0);
SELECT * FROM order_credit.set_stock_alert('alert-tea', 5);

-- Levels at or below a share show in low_buckets.
SELECT available FROM order_credit.reserve_stock('alert-tea', 15, 't1');
SELECT * FROM order_credit.stock_alerts ORDER BY sku;

-- A re-stripe gives the buckets new shares; the threshold stays.
SELECT sku, buckets FROM order_credit.set_stock('alert-rice', 41, 3);
SELECT bucket, on_hand - reserved AS available, alert_below
  FROM order_credit.stock_buckets WHERE sku = 'alert-rice' ORDER BY bucket;
SELECT * FROM order_credit.stock_alerts ORDER BY sku;

-- Removing it clears the shares; the item leaves the view.
SELECT * FROM order_credit.set_stock_alert('alert-rice', NULL);
SELECT count(*) AS shares_left FROM order_credit.stock_buckets
 WHERE sku = 'alert-rice' AND alert_below IS NOT NULL;
SELECT sku FROM order_credit.stock_alerts ORDER BY sku;

-- The crossing rule through the statements' wrapper: true when it crossed
-- (and notified), at the threshold counting as low.
SELECT before, after, order_credit._stock_crossed('alert-tea', 0, before, after, 5) AS crossed
  FROM (VALUES (6, 5), (5, 4), (5, 6), (4, 5), (100, 0), (0, 100), (7, 6)) v(before, after);
SELECT order_credit._stock_crossed('alert-tea', 0, 6, 5, NULL) AS no_threshold;

-- Only administrators set thresholds; nobody else may call the wrapper.
SELECT has_function_privilege('public', 'order_credit.set_stock_alert(text, bigint)', 'EXECUTE')
       AS public_set,
       has_function_privilege('public', 'order_credit._stock_crossed(text, int, bigint, bigint, bigint)',
                              'EXECUTE') AS public_wrapper;

-- verify() and verify_sku() check the shares: they add up to the threshold,
-- every bucket has one, and an item without a threshold has none. A
-- re-stripe gives the new buckets new shares.
SELECT sku FROM order_credit.set_stock('alert-split', 30, 3);
SELECT threshold FROM order_credit.set_stock_alert('alert-split', 10);
SELECT sku FROM order_credit.set_stock('alert-split', 30, 4);
SELECT bucket, alert_below FROM order_credit.stock_buckets WHERE sku = 'alert-split' ORDER BY bucket;
SELECT * FROM order_credit.verify_sku('alert-split');
BEGIN;
UPDATE order_credit.stock_buckets SET alert_below = alert_below + 1 WHERE sku = 'alert-split' AND bucket = 1;
SELECT * FROM order_credit.verify_sku('alert-split');
SELECT * FROM order_credit.verify() WHERE check_name = 'stock_alert';
ROLLBACK;
BEGIN;
UPDATE order_credit.stock_buckets SET alert_below = NULL WHERE sku = 'alert-split' AND bucket = 3;
SELECT * FROM order_credit.verify_sku('alert-split');
ROLLBACK;
BEGIN;
SELECT threshold FROM order_credit.set_stock_alert('alert-split', NULL);
UPDATE order_credit.stock_buckets SET alert_below = 0 WHERE sku = 'alert-split' AND bucket = 0;
SELECT * FROM order_credit.verify() WHERE check_name = 'stock_alert';
ROLLBACK;

-- Orders: order_credit.notify_orders is off unless set.
SHOW order_credit.notify_orders;
SELECT * FROM order_credit.verify();
