-- Credit accounts: create_account, set_credit_limit, block/unblock_account,
-- credit_status (docs/reference.md, "Credit lines").
\set VERBOSITY default
\i sql/include/credit_helpers.sql

-- create_account: a new line, then the same call again (replay: same row,
-- no second ledger entry), then other arguments (OC009).
SELECT :acct FROM order_credit.create_account('acc-1', 1000);
SELECT :acct FROM order_credit.create_account('acc-1', 1000);
SELECT :acct FROM order_credit.create_account('acc-1', 1000.0000);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-1', 999)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-1', 1000, 'EUR')$$);
SELECT count(*) AS create_entries FROM order_credit.ledger WHERE account = 'acc-1';
-- With a currency; replay must match it too.
SELECT :acct FROM order_credit.create_account('acc-eur', 50.25, 'EUR');
SELECT :acct FROM order_credit.create_account('acc-eur', 50.25, 'EUR');
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-eur', 50.25)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-eur', 50.25, 'USD')$$);
-- A zero limit is a valid line (nothing can be reserved on it).
SELECT :acct FROM order_credit.create_account('acc-zero', 0);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('acc-zero', 0.0001, 'acc-zero-o1')$$);
-- Bad limits: negative, NaN, infinities, 5 decimals, NULL.
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', -1)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', -0.0001)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', 'NaN')$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', 'Infinity')$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', '-Infinity')$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', 10.00001)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-bad', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.create_account(NULL, 10)$$);
-- 5-decimal value with a zero fifth decimal is 4 decimals.
SELECT :acct FROM order_credit.create_account('acc-5dec', 10.50000);
-- Keys: empty and 201 characters refused, 200 accepted, for account and currency.
SELECT pg_temp.err($$SELECT order_credit.create_account('', 10)$$);
SELECT pg_temp.err(format('SELECT order_credit.create_account(%L, 10)', repeat('a', 201)));
SELECT char_length(account), credit_limit FROM order_credit.create_account(repeat('a', 200), 10);
SELECT pg_temp.err($$SELECT order_credit.create_account('acc-cur', 10, '')$$);
SELECT pg_temp.err(format('SELECT order_credit.create_account(%L, 10, %L)', 'acc-cur', repeat('c', 201)));
-- Characters, not bytes: 200 two-byte characters are a valid key.
SELECT char_length(account), octet_length(account) > 200 AS multibyte
  FROM order_credit.create_account(repeat('é', 200), 1);
SELECT pg_temp.err(format('SELECT order_credit.create_account(%L, 1)', repeat('é', 201)));
SELECT count(*) AS refused_accounts_created
  FROM order_credit.accounts WHERE account IN ('acc-bad', '', 'acc-cur');

-- credit_status
SELECT :acct FROM order_credit.credit_status('acc-1');
SELECT pg_temp.err($$SELECT order_credit.credit_status('acc-nobody')$$);
SELECT pg_temp.err($$SELECT order_credit.credit_status(NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.credit_status('')$$);

-- set_credit_limit: raise, same value (no ledger entry), unknown account, bad values.
SELECT :acct FROM order_credit.set_credit_limit('acc-1', 1500);
SELECT :acct FROM order_credit.set_credit_limit('acc-1', 1500);
SELECT kind, amount, posted_after, pending_after FROM order_credit.ledger
 WHERE account = 'acc-1' ORDER BY entry_id;
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('acc-nobody', 10)$$);
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('acc-1', -5)$$);
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('acc-1', 'NaN')$$);
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('acc-1', 1.00001)$$);
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('acc-1', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit(NULL, 10)$$);
-- A replayed create_account after a limit change still matches its own
-- arguments (the initial limit), and returns the current state.
SELECT :acct FROM order_credit.create_account('acc-1', 1000);

-- Lowering the limit below what is in use is allowed: available goes
-- negative, existing holds stay and can be captured, new holds fail (OC001).
SELECT :hold FROM order_credit.reserve_credit('acc-1', 600, 'acc-1-o1');
SELECT :hold FROM order_credit.reserve_credit('acc-1', 400, 'acc-1-o2');
SELECT :acct FROM order_credit.set_credit_limit('acc-1', 700);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('acc-1', 0.0001, 'acc-1-o3')$$);
SELECT :hold FROM order_credit.capture_credit('acc-1-o1');
SELECT :hold FROM order_credit.release_credit('acc-1-o2');
SELECT :acct FROM order_credit.credit_status('acc-1');
-- Down to zero.
SELECT :acct FROM order_credit.set_credit_limit('acc-1', 0);
SELECT :acct FROM order_credit.record_payment('acc-1', 600, 'acc-1-p1');

-- block_account / unblock_account
SELECT :acct FROM order_credit.block_account('acc-eur', 'overdue invoices');
-- Blocking again changes nothing (no ledger entry, reason kept).
SELECT :acct FROM order_credit.block_account('acc-eur', 'another reason');
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('acc-eur', 1, 'acc-eur-o1')$$);
SELECT :acct FROM order_credit.unblock_account('acc-eur');
SELECT :acct FROM order_credit.unblock_account('acc-eur');
SELECT :hold FROM order_credit.reserve_credit('acc-eur', 1, 'acc-eur-o1');
-- A NULL reason is allowed.
SELECT :acct FROM order_credit.block_account('acc-eur', NULL);
SELECT :acct FROM order_credit.unblock_account('acc-eur');
SELECT kind, reason FROM order_credit.ledger WHERE account = 'acc-eur' ORDER BY entry_id;
SELECT pg_temp.err($$SELECT order_credit.block_account('acc-nobody', 'x')$$);
SELECT pg_temp.err($$SELECT order_credit.unblock_account('acc-nobody')$$);
SELECT pg_temp.err($$SELECT order_credit.block_account(NULL, 'x')$$);
SELECT pg_temp.err($$SELECT order_credit.unblock_account(NULL)$$);
SELECT pg_temp.err(format('SELECT order_credit.block_account(%L, %L)', 'acc-eur', repeat('r', 1001)));

SELECT * FROM order_credit.verify();
