-- The privileges the exporter's role needs for queries.yaml: reading the
-- views and tables it queries and calling the functions behind them. It can
-- neither write nor reset the counters. As the extension's owner:
--
--   CREATE ROLE prometheus LOGIN;
--   \set role prometheus
--   \i monitoring/prometheus/monitor_role.sql
--
-- (or psql -v role=prometheus -f monitoring/prometheus/monitor_role.sql).
GRANT USAGE ON SCHEMA order_credit TO :"role";
GRANT SELECT ON order_credit.stats, order_credit.stats_latency_buckets, order_credit.stock_levels,
                order_credit.holds, order_credit.reservation_claims, order_credit.orders
   TO :"role";
GRANT EXECUTE ON FUNCTION order_credit._stats_latency(), order_credit._stats_latency_buckets(),
                          order_credit.verify()
   TO :"role";
