\i sql/include/err.sql
-- Columns that do not depend on the clock or on sequence values.
\set acct 'account, currency, credit_limit, posted, pending, available, status, blocked_reason'
\set hold 'account, order_ref, amount, captured, status, expires_at > now() AS live, available'
