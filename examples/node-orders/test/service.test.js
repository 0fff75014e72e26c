'use strict';
// The service against a real server: a cluster of its own (port
// OC_NODE_TEST_PORT, default 55641) with order_credit preloaded, the service
// connected as an application role, HTTP requests sent concurrently.
// Every race is judged by the database's state, not only by the answers.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Pool } = require('pg');
const { createApp, sign } = require('../src/app');
const { startCluster, connection, createShopDatabase } = require('./support/cluster');

const PORT = Number(process.env.OC_NODE_TEST_PORT || 55641);
const SECRET = 'whsec-test';
// No test may hang a run: a hook or test past this fails (the cluster is still stopped).
const TIME_LIMIT = { timeout: 120000 };

let cluster;
let admin; // superuser: sets up accounts and stock, reads the extension's tables
const pools = [];
const servers = [];
const serverErrors = [];

// A pool to end at the end. The cluster stops before the pools end, which
// ends their idle connections: an error the pool reports, expected there.
function watched(pool) {
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

// A service on an ephemeral port; returns its base URL.
async function startService({ poolOptions = {}, ...options } = {}) {
  const pool = watched(new Pool(connection(cluster, 'shop_app', { max: 20, ...poolOptions })));
  const server = createApp({ pool, webhookSecret: SECRET, log: (line) => serverErrors.push(line), ...options });
  servers.push(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const order = (base, key, body) => post(`${base}/orders`, body, { 'Idempotency-Key': key });

function webhook(base, event, secret = SECRET) {
  const raw = JSON.stringify(event);
  return post(`${base}/payments/webhook`, raw, { 'Payment-Signature': sign(secret, raw) });
}

async function sql(text, params = []) {
  return (await admin.query(text, params)).rows;
}

async function one(text, params) {
  const rows = await sql(text, params);
  assert.equal(rows.length, 1, `one row from: ${text}`);
  return rows[0];
}

// A retailer with a credit line, and SKUs with stock and a price.
async function seed({ retailer, creditLimit, items }) {
  await sql('SELECT order_credit.create_account($1, $2)', [retailer, creditLimit]);
  for (const { sku, onHand, price } of items) {
    await sql('SELECT order_credit.set_stock($1, $2)', [sku, onHand]);
    await sql('INSERT INTO shop.prices (sku, unit_price) VALUES ($1, $2)', [sku, price]);
  }
}

const stock = (sku) => one(
  'SELECT on_hand::int, reserved::int, available::int FROM order_credit.stock_status($1)', [sku]);
const credit = (account) => one(
  `SELECT posted::float8 AS posted, pending::float8 AS pending, available::float8 AS available
     FROM order_credit.credit_status($1)`, [account]);
const ledgerKinds = async (orderRef) => (await sql(
  'SELECT kind FROM order_credit.ledger WHERE order_ref = $1 ORDER BY entry_id', [orderRef])).map((r) => r.kind);
const transitions = async (orderRef) => (await sql(
  `SELECT coalesce(from_status, '') || '>' || to_status AS t FROM order_credit.order_history
    WHERE order_ref = $1 ORDER BY entry_id`, [orderRef])).map((r) => r.t);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (answers, status) => answers.filter((a) => a.status === status).length;

let base;

before(async () => {
  cluster = startCluster(PORT);
  await createShopDatabase(cluster);
  admin = watched(new Pool(connection(cluster, 'postgres', { max: 4, statement_timeout: 30000 })));
  base = await startService();
}, TIME_LIMIT);

after(async () => {
  let broken = [];
  let crashes = [];
  try {
    if (admin) broken = await sql('SELECT * FROM order_credit.verify()');
  } finally {
    // The server goes first: a request still waiting on it fails at once
    // instead of keeping its connection, and so the pools, busy.
    if (cluster) {
      crashes = cluster.crashes();
      cluster.stop();
    }
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await Promise.allSettled(pools.map((pool) => pool.end()));
    // Nothing left over (a timed-out test's pending work) may keep this
    // process, and so the whole run, waiting.
    setTimeout(() => process.exit(), 10000).unref();
  }
  assert.deepEqual(broken, [], 'every invariant of the extension holds after all of it');
  assert.deepEqual(crashes, [], 'no backend crashed');
  assert.deepEqual(serverErrors, [], 'no request ended in a 500');
}, TIME_LIMIT);

describe('POST /orders', TIME_LIMIT, () => {
  it('50 concurrent orders for the last 5 units: 5 placed, 45 answered 409 with the SKU', async () => {
    await seed({ retailer: 'retailer-crowd', creditLimit: 1000000, items: [{ sku: 'last-5', onHand: 5, price: 10 }] });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      order(base, `crowd-${i}`, { retailer: 'retailer-crowd', items: [{ sku: 'last-5', quantity: 1 }] })));

    assert.equal(count(answers, 201), 5);
    assert.equal(count(answers, 409), 45);
    for (const a of answers.filter((x) => x.status === 409))
      assert.deepEqual(a.body, { error: 'insufficient_stock', sku: 'last-5', available: 0, requested: 1 });
    assert.deepEqual(await stock('last-5'), { on_hand: 5, reserved: 5, available: 0 });
    const placed = answers.filter((a) => a.status === 201).map((a) => a.body.order_ref).sort();
    const reserved = (await sql(
      "SELECT order_ref FROM order_credit.active_reservations WHERE sku = 'last-5' ORDER BY order_ref")).map((r) => r.order_ref);
    assert.deepEqual(reserved, placed);
    const shopRows = (await sql(
      "SELECT order_ref FROM shop.orders WHERE retailer = 'retailer-crowd' ORDER BY order_ref")).map((r) => r.order_ref);
    assert.deepEqual(shopRows, placed, 'refused orders left no row of the shop');
  });

  it('orders of 75,000 and 40,000 at once on a 100,000 credit line: one 201, one 402 with what is left', async () => {
    await seed({ retailer: 'retailer-42', creditLimit: 100000, items: [{ sku: 'cement-50kg', onHand: 1000, price: 1000 }] });
    const [big, small] = await Promise.all([
      order(base, 'credit-75k', { retailer: 'retailer-42', items: [{ sku: 'cement-50kg', quantity: 75 }] }),
      order(base, 'credit-40k', { retailer: 'retailer-42', items: [{ sku: 'cement-50kg', quantity: 40 }] }),
    ]);

    assert.deepEqual([big.status, small.status].sort(), [201, 402]);
    const [won, lost] = big.status === 201 ? [big, small] : [small, big];
    const expected = won === big ? { available: '25000', requested: '40000' } : { available: '60000', requested: '75000' };
    assert.equal(lost.body.error, 'insufficient_credit');
    assert.equal(Number(lost.body.available), Number(expected.available));
    assert.equal(Number(lost.body.requested), Number(expected.requested));
    assert.equal(Number(won.body.amount), won === big ? 75000 : 40000);

    const c = await credit('retailer-42');
    assert.deepEqual(c, { posted: 0, pending: Number(won.body.amount), available: 100000 - Number(won.body.amount) });
    assert.equal((await sql("SELECT 1 FROM shop.orders WHERE retailer = 'retailer-42'")).length, 1);
    assert.equal((await stock('cement-50kg')).reserved, won === big ? 75 : 40, 'the refused order reserved no stock');
  });

  it('the same Idempotency-Key twice at once: one order; the second answer is a 409 or the same body', async (t) => {
    await seed({ retailer: 'retailer-twice', creditLimit: 1000000, items: [{ sku: 'soap-box', onHand: 1000, price: 50 }] });
    const seen = { 409: 0, replay: 0 };
    for (let round = 0; round < 5; round++) {
      const body = { retailer: 'retailer-twice', items: [{ sku: 'soap-box', quantity: 2 }], message: `2 boxes soap (${round})` };
      const key = `chat-msg-${round}`;
      const answers = await Promise.all([order(base, key, body), order(base, key, body)]);

      const created = answers.filter((a) => a.status === 201);
      assert.ok(created.length >= 1, `round ${round}: an order was placed`);
      for (const a of answers) {
        if (a.status === 201) {
          assert.deepEqual(a.body, created[0].body, `round ${round}: the replay is the same body`);
          if (a !== created[0]) seen.replay++;
        } else {
          seen[409]++;
          assert.equal(a.status, 409, `round ${round}`);
          assert.equal(a.body.error, 'request_in_progress');
          assert.equal(a.headers.get('retry-after'), '1');
        }
      }
      // Sent again later: the first answer again, nothing placed twice.
      const again = await order(base, key, body);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, created[0].body);
    }
    t.diagnostic(`second answers: ${seen[409]} in progress (409), ${seen.replay} replays`);
    const placed = await sql("SELECT order_ref FROM order_credit.orders WHERE account = 'retailer-twice'");
    assert.equal(placed.length, 5, 'one order per key');
    assert.equal((await sql("SELECT 1 FROM shop.orders WHERE retailer = 'retailer-twice'")).length, 5);
    assert.equal((await stock('soap-box')).reserved, 10);

    // The same key with another order is refused.
    const other = await order(base, 'chat-msg-0', { retailer: 'retailer-twice', items: [{ sku: 'soap-box', quantity: 3 }] });
    assert.equal(other.status, 422);
    assert.equal(other.body.error, 'idempotency_mismatch');
    assert.equal((await sql("SELECT 1 FROM order_credit.orders WHERE account = 'retailer-twice'")).length, 5);
  });

  it('a lock wait over order_credit.lock_timeout is 503 with Retry-After, and the retry succeeds', async () => {
    await seed({ retailer: 'retailer-wait', creditLimit: 100000, items: [{ sku: 'busy-sku', onHand: 10, price: 10 }] });
    const impatient = await startService({ poolOptions: { options: '-c order_credit.lock_timeout=200ms' } });
    const blocker = await admin.connect();
    const body = { retailer: 'retailer-wait', items: [{ sku: 'busy-sku', quantity: 1 }] };
    try {
      // Another transaction holds the item's only stock row.
      await blocker.query('BEGIN');
      await blocker.query("SELECT order_credit.reserve_stock('busy-sku', 1, 'blocker')");
      const busy = await order(impatient, 'wait-1', body);
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.deepEqual(busy.body, { error: 'busy', retry: true });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const retried = await order(impatient, 'wait-1', body);
    assert.equal(retried.status, 201);
    assert.equal((await sql("SELECT 1 FROM order_credit.orders WHERE account = 'retailer-wait'")).length, 1);
  });

  it('requests the service refuses before the database', async () => {
    await seed({ retailer: 'retailer-bad', creditLimit: 1000, items: [{ sku: 'known-sku', onHand: 10, price: 1 }] });
    const good = { retailer: 'retailer-bad', items: [{ sku: 'known-sku', quantity: 1 }] };
    assert.equal((await post(`${base}/orders`, good)).status, 400, 'no Idempotency-Key');
    assert.equal((await order(base, 'bad-1', { ...good, items: [{ sku: 'known-sku', quantity: 0 }] })).status, 400);
    assert.equal((await order(base, 'bad-2', '{"retailer": ')).status, 400);
    const unknown = await order(base, 'bad-3', { ...good, items: [{ sku: 'no-such-sku', quantity: 1 }] });
    assert.deepEqual([unknown.status, unknown.body], [422, { error: 'unknown_sku', skus: ['no-such-sku'] }]);
    const stranger = await order(base, 'bad-4', { ...good, retailer: 'no-such-retailer' });
    assert.deepEqual([stranger.status, stranger.body], [422, { error: 'unknown_retailer' }]);
    assert.equal((await sql("SELECT 1 FROM order_credit.orders WHERE account = 'retailer-bad'")).length, 0);
    assert.deepEqual(await stock('known-sku'), { on_hand: 10, reserved: 0, available: 10 });
  });
});

describe('POST /payments/webhook', TIME_LIMIT, () => {
  it('the same event delivered 10 times at once confirms the order once', async () => {
    await seed({ retailer: 'retailer-pay', creditLimit: 100000, items: [{ sku: 'rice-25kg', onHand: 100, price: 2500 }] });
    const placed = await order(base, 'pay-1', { retailer: 'retailer-pay', items: [{ sku: 'rice-25kg', quantity: 3 }] });
    assert.equal(placed.status, 201);
    const ref = placed.body.order_ref;
    const event = { id: 'evt-1001', type: 'payment.succeeded', order_ref: ref, payment_ref: 'pay-77' };

    const answers = await Promise.all(Array.from({ length: 10 }, () => webhook(base, event)));
    assert.equal(count(answers, 200), 10);
    const outcomes = answers.map((a) => a.body.outcome).sort();
    assert.deepEqual(outcomes, ['confirmed', ...Array(9).fill('duplicate')]);

    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [ref])).status, 'paid');
    assert.deepEqual(await transitions(ref), ['>pending', 'pending>paid']);
    assert.deepEqual(await ledgerKinds(ref), ['hold', 'capture']);
    assert.deepEqual(await credit('retailer-pay'), { posted: 7500, pending: 0, available: 92500 });
    assert.deepEqual(await stock('rice-25kg'), { on_hand: 97, reserved: 0, available: 97 });
    assert.equal((await sql("SELECT 1 FROM order_credit.processed_events WHERE event_id = 'evt-1001'")).length, 1);
    assert.deepEqual(await sql('SELECT outcome FROM shop.payment_events WHERE order_ref = $1', [ref]), [{ outcome: 'confirmed' }]);

    // A late failure event for the paid order changes nothing.
    const late = await webhook(base, { id: 'evt-1002', type: 'payment.failed', order_ref: ref });
    assert.equal(late.body.outcome, 'ignored');
    assert.deepEqual(await ledgerKinds(ref), ['hold', 'capture']);
    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [ref])).status, 'paid');
  });

  it('a failure event cancels the pending order: stock and credit come back', async () => {
    await seed({ retailer: 'retailer-fail', creditLimit: 50000, items: [{ sku: 'oil-5l', onHand: 20, price: 1200 }] });
    const placed = await order(base, 'fail-1', { retailer: 'retailer-fail', items: [{ sku: 'oil-5l', quantity: 5 }] });
    assert.equal(placed.status, 201);
    const ref = placed.body.order_ref;
    assert.deepEqual(await stock('oil-5l'), { on_hand: 20, reserved: 5, available: 15 });

    const failed = await webhook(base, { id: 'evt-2001', type: 'payment.failed', order_ref: ref });
    assert.deepEqual([failed.status, failed.body.outcome], [200, 'cancelled']);
    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [ref])).status, 'cancelled');
    assert.deepEqual(await stock('oil-5l'), { on_hand: 20, reserved: 0, available: 20 });
    assert.deepEqual(await credit('retailer-fail'), { posted: 0, pending: 0, available: 50000 });
    assert.deepEqual(await ledgerKinds(ref), ['hold', 'void']);

    // The money arrives after all: the order stays cancelled, a refund is due.
    const paid = await webhook(base, { id: 'evt-2002', type: 'payment.succeeded', order_ref: ref, payment_ref: 'pay-88' });
    assert.equal(paid.body.outcome, 'refund_due');
    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [ref])).status, 'cancelled');
    assert.deepEqual(await ledgerKinds(ref), ['hold', 'void']);
  });

  it('an event with a bad signature is refused and has no effect', async () => {
    await seed({ retailer: 'retailer-sig', creditLimit: 50000, items: [{ sku: 'salt-1kg', onHand: 20, price: 100 }] });
    const placed = await order(base, 'sig-1', { retailer: 'retailer-sig', items: [{ sku: 'salt-1kg', quantity: 1 }] });
    const event = { id: 'evt-3001', type: 'payment.succeeded', order_ref: placed.body.order_ref, payment_ref: 'p' };
    const forged = await webhook(base, event, 'not-the-secret');
    assert.equal(forged.status, 401);
    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [placed.body.order_ref])).status, 'pending');
    assert.equal((await sql("SELECT 1 FROM order_credit.processed_events WHERE event_id = 'evt-3001'")).length, 0);
    // Signed, the same event still takes effect.
    assert.equal((await webhook(base, event)).body.outcome, 'confirmed');
  });
});

describe('payment timeout', TIME_LIMIT, () => {
  it('an unpaid order expires by the sweeper: its stock and credit come back', async () => {
    const quick = await startService({ orderTtl: '1 second' });
    await seed({ retailer: 'retailer-late', creditLimit: 50000, items: [{ sku: 'tea-crate', onHand: 10, price: 1000 }] });
    const sweeperUp = Date.now() + 30000;
    while ((await sql("SELECT 1 FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = 'shop'")).length === 0) {
      assert.ok(Date.now() < sweeperUp, 'the sweeper serves the database within 30 s');
      await sleep(100);
    }

    const placed = await order(quick, 'late-1', { retailer: 'retailer-late', items: [{ sku: 'tea-crate', quantity: 4 }] });
    assert.equal(placed.status, 201);
    const ref = placed.body.order_ref;
    assert.deepEqual(await stock('tea-crate'), { on_hand: 10, reserved: 4, available: 6 });
    assert.deepEqual(await credit('retailer-late'), { posted: 0, pending: 4000, available: 46000 });

    // Nothing but the sweeper touches the order: wait for its ledger entry,
    // reading the tables only.
    const deadline = Date.now() + 30000;
    while (!(await ledgerKinds(ref)).includes('expire')) {
      assert.ok(Date.now() < deadline, 'the sweeper expired the order within 30 s');
      await sleep(100);
    }
    assert.deepEqual(await ledgerKinds(ref), ['hold', 'expire']);
    assert.equal((await one('SELECT status FROM order_credit.orders WHERE order_ref = $1', [ref])).status, 'expired');
    assert.deepEqual(await transitions(ref), ['>pending', 'pending>expired']);
    assert.deepEqual(await stock('tea-crate'), { on_hand: 10, reserved: 0, available: 10 });
    assert.deepEqual(await credit('retailer-late'), { posted: 0, pending: 0, available: 50000 });

    // A payment that comes after the timeout does not revive the order.
    const paid = await webhook(base, { id: 'evt-4001', type: 'payment.succeeded', order_ref: ref, payment_ref: 'pay-99' });
    assert.equal(paid.body.outcome, 'refund_due');
    assert.equal((await one('SELECT status FROM order_credit.order_status($1)', [ref])).status, 'expired');
  });
});
