'use strict';
// SQLSTATE -> HTTP. The codes, DETAIL formats and messages are order_credit's
// contract (docs/reference.md in the repository). The body never carries SQL
// text or a server message the client cannot act on.

// An OC error's DETAIL is "name=value, name=value, ...", e.g. OC001:
// "available=25000, requested=40000, credit_limit=100000, posted=0, pending=75000".
function parseDetail(detail) {
  const fields = {};
  if (typeof detail !== 'string') return fields;
  for (const part of detail.split(', ')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

// OC004's MESSAGE names the SKU: insufficient stock of "<sku>".
function skuFromMessage(message) {
  const m = /^insufficient stock of "(.*)"$/s.exec(message || '');
  return m ? m[1] : null;
}

const RETRY_AFTER_SECONDS = 1;

// Errors after which the same request, sent again (with the same
// Idempotency-Key), can succeed: nothing of the failed attempt was kept.
const RETRYABLE = new Set([
  '55P03', // lock wait over order_credit.lock_timeout
  '40001', // serialization failure (REPEATABLE READ / SERIALIZABLE callers)
  '40P01', // deadlock detected
  '57P01', // server shutting down
  '57P03', // server starting up
]);

// Returns { status, body, headers } for an error thrown while serving a request.
function httpError(err) {
  const code = err && err.code;
  const detail = parseDetail(err && err.detail);
  switch (code) {
    case 'OC001':
      return {
        status: 402,
        body: {
          error: 'insufficient_credit',
          available: detail.available ?? null,
          requested: detail.requested ?? null,
        },
      };
    case 'OC002':
      return { status: 403, body: { error: 'account_blocked' } };
    case 'OC003':
      return { status: 422, body: { error: 'unknown_retailer' } };
    case 'OC004':
      return {
        status: 409,
        body: {
          error: 'insufficient_stock',
          sku: skuFromMessage(err.message),
          available: detail.available !== undefined ? Number(detail.available) : null,
          requested: detail.requested !== undefined ? Number(detail.requested) : null,
        },
      };
    case 'OC005':
      return { status: 422, body: { error: 'unknown_sku' } };
    case 'OC009':
      return { status: 422, body: { error: 'idempotency_mismatch' } };
    case 'OC010':
      return inProgress(RETRY_AFTER_SECONDS);
    case '22023':
    case '22004':
      return { status: 400, body: { error: 'invalid_request' } };
  }
  if (RETRYABLE.has(code) || (typeof code === 'string' && code.startsWith('08'))) {
    return {
      status: 503,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      body: { error: 'busy', retry: true },
    };
  }
  return { status: 500, body: { error: 'internal_error' } };
}

function inProgress(retryAfterSeconds) {
  return {
    status: 409,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    body: { error: 'request_in_progress', retry: true },
  };
}

module.exports = { httpError, inProgress, parseDetail, skuFromMessage };
