-- order_credit install script. Built by the Makefile from src/sql/NN_*.sql.
\echo Use "CREATE EXTENSION order_credit" to load this file. \quit

-- Every function pins search_path; every object below is schema-qualified.
-- Functions that write are SECURITY DEFINER: the tables are not writable by
-- anyone but the extension owner, and access is granted per function
-- (see order_credit.grant_app / grant_admin).

CREATE FUNCTION order_credit.default_ttl() RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'oc_default_ttl';
COMMENT ON FUNCTION order_credit.default_ttl() IS
    'The current order_credit.default_ttl as an interval: the default expiry of holds and reservations.';

CREATE FUNCTION order_credit.append_only() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'oc_append_only';
COMMENT ON FUNCTION order_credit.append_only() IS
    'Trigger refusing UPDATE, DELETE and TRUNCATE on append-only tables (ledger, audit).';

CREATE FUNCTION order_credit._guard_selftest(kind text) RETURNS int
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_guard_selftest';
COMMENT ON FUNCTION order_credit._guard_selftest(text) IS
    'Test hook: raises a C++ exception or PostgreSQL error through the error boundary. Not for applications.';
REVOKE ALL ON FUNCTION order_credit._guard_selftest(text) FROM PUBLIC;

-- Which functions each access tier may call. Each area lists its functions
-- here; order_credit.grant_app() / grant_admin() grant from this list.
CREATE TABLE order_credit.function_access (
    function  regprocedure PRIMARY KEY,
    tier      text NOT NULL CHECK (tier IN ('app', 'admin'))
);
COMMENT ON TABLE order_credit.function_access IS
    'Access tiers: app = operational calls (reserve, capture, ...); admin = also limits, blocking, verify. Read by grant_app() and grant_admin().';
