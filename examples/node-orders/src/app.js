'use strict';
// The order service: node:http, one pg Pool, one database transaction per
// request. Stock, credit, idempotency and exactly-once events are
// order_credit's; this file only decides what to call and what to answer.
const http = require('node:http');
const crypto = require('node:crypto');
const { httpError, inProgress } = require('./errors');

const MAX_BODY_BYTES = 64 * 1024;
const MAX_ITEMS = 100;
const MAX_KEY_CHARS = 200; // order_credit's limit for every key
const IDEMPOTENCY_PREFIX = 'orders:';
const EVENT_SOURCE = 'payments';

class HttpError extends Error {
  constructor(status, body) {
    super(body.error);
    this.status = status;
    this.body = body;
  }
}

const invalid = (message) => new HttpError(400, { error: 'invalid_request', message });

function isKey(s, maxChars = MAX_KEY_CHARS) {
  return typeof s === 'string' && s.length > 0 && [...s].length <= maxChars;
}

// Runs fn(client) inside BEGIN ... COMMIT on one pooled connection; any error
// rolls everything back (order_credit's calls included) and is rethrown.
async function withTransaction(pool, fn) {
  const client = await pool.connect();
  let broken;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr; // the connection is unusable: the pool drops it
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

// Runs one statement under a savepoint. Returns { rows } or, when it fails
// with one of `codes`, { code } with the transaction still usable.
async function attempt(db, codes, sql, params) {
  await db.query('SAVEPOINT attempt');
  try {
    const { rows } = await db.query(sql, params);
    await db.query('RELEASE SAVEPOINT attempt');
    return { rows };
  } catch (err) {
    if (!codes.includes(err.code)) throw err;
    await db.query('ROLLBACK TO SAVEPOINT attempt');
    return { code: err.code };
  }
}

// { retailer, items: [{ sku, quantity }], message } -> the same, checked,
// items sorted by SKU (so equal orders have equal fingerprints).
function parseOrder(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('body must be a JSON object');
  const { retailer, items, message } = body;
  if (!isKey(retailer)) throw invalid('retailer must be a string of 1 to 200 characters');
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS)
    throw invalid(`items must be a list of 1 to ${MAX_ITEMS} items`);
  const seen = new Set();
  const checked = items.map((item, i) => {
    if (item === null || typeof item !== 'object') throw invalid(`items[${i}] must be an object`);
    if (!isKey(item.sku)) throw invalid(`items[${i}].sku must be a string of 1 to 200 characters`);
    if (!Number.isSafeInteger(item.quantity) || item.quantity <= 0)
      throw invalid(`items[${i}].quantity must be a positive integer`);
    if (seen.has(item.sku)) throw invalid(`items[${i}].sku is listed twice`);
    seen.add(item.sku);
    return { sku: item.sku, quantity: item.quantity };
  });
  checked.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  if (message !== undefined && typeof message !== 'string') throw invalid('message must be a string');
  return { retailer, items: checked, message: message ?? null };
}

function createApp({ pool, webhookSecret, orderTtl = '15 minutes', log = console.error }) {
  if (!webhookSecret) throw new Error('webhookSecret is required');

  // POST /orders: a chat message turned into an order. idempotency_begin,
  // place_order, the shop's own row and idempotency_complete commit together
  // or not at all; a failed attempt leaves the key free for a retry.
  async function postOrder(req, raw) {
    const key = req.headers['idempotency-key'];
    if (!isKey(key, MAX_KEY_CHARS - IDEMPOTENCY_PREFIX.length))
      throw invalid('an Idempotency-Key header of 1 to 190 characters is required');
    const order = parseOrder(parseJson(raw));
    const fingerprint = sha256(JSON.stringify([order.retailer, order.items, order.message]));
    const idemKey = IDEMPOTENCY_PREFIX + key;

    return withTransaction(pool, async (db) => {
      const { rows: [begin] } = await db.query(
        `SELECT state, response, response_code,
                ceil(extract(epoch FROM retry_after))::int AS retry_after
           FROM order_credit.idempotency_begin($1, $2)`,
        [idemKey, fingerprint]);
      if (begin.state === 'replay') return { status: begin.response_code, body: begin.response };
      if (begin.state === 'in_progress') return inProgress(begin.retry_after || 1);
      // 'new' -> place the order. ('resume' follows only a begin committed
      // without its writes, which this service never commits.)

      const { rows: prices } = await db.query(
        'SELECT sku, unit_price::text AS unit_price FROM shop.prices WHERE sku = ANY($1::text[])',
        [order.items.map((i) => i.sku)]);
      const priceOf = new Map(prices.map((p) => [p.sku, p.unit_price]));
      const unknown = order.items.filter((i) => !priceOf.has(i.sku)).map((i) => i.sku);
      if (unknown.length > 0) throw new HttpError(422, { error: 'unknown_sku', skus: unknown });
      const items = order.items.map((i) => ({ ...i, unit_price: priceOf.get(i.sku) }));

      const orderRef = `ord-${crypto.randomUUID()}`;
      // The items document is built in SQL: unit_price must be a JSON number
      // with the price's exact digits.
      const { rows: [placed] } = await db.query(
        `SELECT order_ref, status, amount::text AS amount, expires_at
           FROM order_credit.place_order($1,
                  (SELECT jsonb_agg(jsonb_build_object('sku', sku, 'quantity', quantity, 'unit_price', unit_price))
                     FROM unnest($2::text[], $3::bigint[], $4::numeric[]) AS i(sku, quantity, unit_price)),
                  $5, $6::interval)`,
        [orderRef, items.map((i) => i.sku), items.map((i) => i.quantity), items.map((i) => i.unit_price),
          order.retailer, orderTtl]);
      await db.query(
        'INSERT INTO shop.orders (order_ref, retailer, chat_message) VALUES ($1, $2, $3)',
        [orderRef, order.retailer, order.message]);

      const response = {
        order_ref: placed.order_ref,
        retailer: order.retailer,
        status: placed.status,
        amount: placed.amount,
        expires_at: placed.expires_at.toISOString(),
        items,
      };
      await db.query('SELECT order_credit.idempotency_complete($1, $2::jsonb, 201)',
        [idemKey, JSON.stringify(response)]);
      return { status: 201, body: response };
    });
  }

  // POST /payments/webhook: each provider event takes effect once
  // (process_once commits with the effect). Events of one order are
  // serialised by a named lock, so a late failure event cannot cancel an
  // order that a success event has just paid.
  async function postWebhook(req, raw) {
    if (!signatureValid(webhookSecret, raw, req.headers['payment-signature']))
      throw new HttpError(401, { error: 'bad_signature' });
    const event = parseJson(raw);
    if (event === null || typeof event !== 'object') throw invalid('body must be a JSON object');
    const { id, type, order_ref: orderRef, payment_ref: paymentRef } = event;
    if (!isKey(id)) throw invalid('id must be a string of 1 to 200 characters');
    if (type !== 'payment.succeeded' && type !== 'payment.failed')
      return { status: 200, body: { event: id, outcome: 'ignored' } };
    if (!isKey(orderRef)) throw invalid('order_ref must be a string of 1 to 200 characters');
    if (type === 'payment.succeeded' && !isKey(paymentRef))
      throw invalid('payment_ref must be a string of 1 to 200 characters');

    return withTransaction(pool, async (db) => {
      const { rows: [{ first }] } = await db.query(
        'SELECT order_credit.process_once($1, $2) AS first', [EVENT_SOURCE, id]);
      if (!first) return { status: 200, body: { event: id, outcome: 'duplicate' } };
      await db.query('SELECT order_credit.lock($1)', [`payment:${orderRef}`]);

      let outcome;
      if (type === 'payment.succeeded') {
        const r = await attempt(db, ['OC006', 'OC007', 'OC008', 'OC009'],
          'SELECT status FROM order_credit.confirm_order($1, $2)', [orderRef, paymentRef]);
        // OC007 cancelled, OC008 expired, OC009 paid by another payment:
        // the money came in for an order that will not ship.
        outcome = r.rows ? 'confirmed' : r.code === 'OC006' ? 'unknown_order' : 'refund_due';
      } else {
        const r = await attempt(db, ['OC006'],
          'SELECT status FROM order_credit.order_status($1)', [orderRef]);
        if (!r.rows) {
          outcome = 'unknown_order';
        } else if (r.rows[0].status !== 'pending') {
          outcome = 'ignored'; // paid, already cancelled or expired
        } else {
          await db.query('SELECT order_credit.cancel_order($1, $2)',
            [orderRef, `payment failed (event ${id})`]);
          outcome = 'cancelled';
        }
      }
      await db.query(
        `INSERT INTO shop.payment_events (event_id, type, order_ref, payment_ref, outcome)
         VALUES ($1, $2, $3, $4, $5)`,
        [id, type, orderRef, paymentRef ?? null, outcome]);
      return { status: 200, body: { event: id, order_ref: orderRef, outcome } };
    });
  }

  const routes = { 'POST /orders': postOrder, 'POST /payments/webhook': postWebhook };

  return http.createServer(async (req, res) => {
    let answer;
    try {
      const handler = routes[`${req.method} ${req.url}`];
      if (!handler) throw new HttpError(404, { error: 'not_found' });
      answer = await handler(req, await readBody(req));
    } catch (err) {
      if (err instanceof HttpError) {
        answer = { status: err.status, body: err.body };
      } else {
        answer = httpError(err);
        if (answer.status === 500) log(`${req.method} ${req.url}: ${err.code || ''} ${err.stack || err}`);
      }
    }
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else reject(new HttpError(413, { error: 'body_too_large' })); // the rest is read and dropped
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw) {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid('body is not valid JSON');
  }
}

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

// Payment-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>
function sign(secret, raw) {
  return `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`;
}

function signatureValid(secret, raw, header) {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(sign(secret, raw));
  const given = Buffer.from(header);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

module.exports = { createApp, sign };
