-- The pattern order_credit replaces, as services write it: lock the account
-- row with FOR UPDATE NOWAIT; when that fails, try again after 100, then
-- 200, then 400 ms, and give up when the third retry fails too; add up the
-- ledger; insert. app_order returns true when the order got its credit,
-- false when it did not (app_outcome says after how many tries).
CREATE TABLE app_ledger (
    entry_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    text NOT NULL,
    amount     numeric NOT NULL,
    order_ref  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp());
CREATE INDEX app_ledger_account ON app_ledger (account);
CREATE TABLE app_accounts (account text PRIMARY KEY, credit_limit numeric NOT NULL);
CREATE TABLE app_outcome (order_ref text PRIMARY KEY, ok boolean NOT NULL, tries int NOT NULL);
CREATE FUNCTION app_order(acct text, amt numeric, ref text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    lim numeric;
    used numeric;
    try int := 0;
BEGIN
    LOOP
        try := try + 1;
        BEGIN
            SELECT credit_limit INTO lim FROM app_accounts WHERE account = acct FOR UPDATE NOWAIT;
            SELECT coalesce(sum(amount), 0) INTO used FROM app_ledger WHERE account = acct;
            IF used + amt > lim THEN
                INSERT INTO app_outcome VALUES (ref, false, try);
                RETURN false;
            END IF;
            INSERT INTO app_ledger (account, amount, order_ref) VALUES (acct, amt, ref);
            INSERT INTO app_outcome VALUES (ref, true, try);
            RETURN true;
        EXCEPTION WHEN lock_not_available THEN
            IF try > 3 THEN
                INSERT INTO app_outcome VALUES (ref, false, try);
                RETURN false;
            END IF;
            PERFORM pg_sleep(0.1 * 2 ^ (try - 1));   -- 100, 200, 400 ms
        END;
    END LOOP;
END
$$;
