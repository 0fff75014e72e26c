-- The C++ <-> PostgreSQL error boundary: every kind of C++ exception and a
-- PostgreSQL error raised below live C++ objects come out as clean ERRORs,
-- destructors run, and the backend keeps working.
\set VERBOSITY default
SELECT order_credit._guard_selftest('count') AS destructors_before;
SELECT order_credit._guard_selftest('std');
SELECT order_credit._guard_selftest('bad_alloc');
SELECT order_credit._guard_selftest('domain');
SELECT order_credit._guard_selftest('unknown');
-- A PostgreSQL error (division by zero) under a live C++ object keeps its SQLSTATE.
\set VERBOSITY sqlstate
SELECT order_credit._guard_selftest('pg');
\set VERBOSITY default
-- Five exceptions, five destructor runs.
SELECT order_credit._guard_selftest('count') AS destructors_after;
-- Caught by PL/pgSQL inside a subtransaction: the SPI stack and the
-- subtransaction stack stay balanced and the session goes on.
DO $$
BEGIN
    PERFORM order_credit._guard_selftest('pg');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught %', SQLERRM;
END $$;
DO $$
BEGIN
    PERFORM order_credit.reserve_credit('nobody', 1, 'guard-1');
EXCEPTION WHEN SQLSTATE 'OC003' THEN
    RAISE NOTICE 'caught % %', SQLSTATE, SQLERRM;
END $$;
SELECT order_credit._guard_selftest('count') AS destructors_final;
SELECT 1 AS still_alive;
