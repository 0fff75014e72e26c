-- The shop's own tables, beside order_credit (run as the owner, after
-- CREATE EXTENSION order_credit and SELECT order_credit.grant_app('shop_app')).
CREATE SCHEMA shop;

-- The wholesaler's price list: place_order is given each item's unit_price from here.
CREATE TABLE shop.prices (
    sku        text PRIMARY KEY,
    unit_price numeric NOT NULL CHECK (unit_price > 0)
);

-- One row per placed order, written in the transaction of place_order.
CREATE TABLE shop.orders (
    order_ref    text PRIMARY KEY,
    retailer     text NOT NULL,
    chat_message text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per payment event that took effect, with what it did
-- ('confirmed', 'cancelled', 'refund_due', 'ignored', 'unknown_order').
CREATE TABLE shop.payment_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    order_ref   text NOT NULL,
    payment_ref text,
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

GRANT USAGE ON SCHEMA shop TO shop_app;
GRANT SELECT ON shop.prices TO shop_app;
GRANT SELECT, INSERT ON shop.orders, shop.payment_events TO shop_app;
