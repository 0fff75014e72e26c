-- Stock benchmark data: a hot SKU striped over 8 buckets, 10,000 ordinary
-- SKUs, and the same rows as a plain-SQL schema for comparison.
CREATE EXTENSION order_credit;
CREATE SEQUENCE bench_ref CACHE 100;
-- expire_due(10000) until nothing is due, one transaction per call, in one
-- session (as a scheduler or the sweeper calls it); returns the rows expired.
CREATE PROCEDURE bench_expire_all(INOUT total bigint DEFAULT 0) LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    LOOP
        n := order_credit.expire_due(10000);
        total := total + n;
        COMMIT;
        EXIT WHEN n = 0;
    END LOOP;
END $$;
SELECT order_credit.set_stock('hot', 1000000000000, 8);
SELECT count(order_credit.set_stock('s' || i, 1000000000)) FROM generate_series(1, 10000) i;

CREATE TABLE plain_stock (sku text PRIMARY KEY, on_hand bigint NOT NULL,
                          reserved bigint NOT NULL DEFAULT 0 CHECK (reserved <= on_hand));
CREATE TABLE plain_res (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_ref text NOT NULL,
                        sku text NOT NULL REFERENCES plain_stock, quantity bigint NOT NULL,
                        status text NOT NULL DEFAULT 'active', expires_at timestamptz,
                        UNIQUE (order_ref, sku));
INSERT INTO plain_stock VALUES ('hot', 1000000000000);
-- Reference only: the same hot item over 8 plain bucket rows (skip_hot.sql).
CREATE TABLE plain_buckets (sku text NOT NULL REFERENCES plain_stock, bucket int NOT NULL,
                            on_hand bigint NOT NULL,
                            reserved bigint NOT NULL DEFAULT 0 CHECK (reserved <= on_hand),
                            PRIMARY KEY (sku, bucket));
INSERT INTO plain_buckets SELECT 'hot', b, 125000000000 FROM generate_series(0, 7) b;
INSERT INTO plain_stock SELECT 's' || i, 1000000000 FROM generate_series(1, 10000) i;
VACUUM ANALYZE;
