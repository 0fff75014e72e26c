'use strict';
// The SQLSTATE -> HTTP mapping on its own (no database).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { httpError, parseDetail, skuFromMessage } = require('../src/errors');

const pgError = (code, message, detail) => Object.assign(new Error(message), { code, detail });

test('DETAIL fields are parsed by name', () => {
  assert.deepEqual(
    parseDetail('available=25000, requested=40000, credit_limit=100000, posted=0, pending=75000'),
    { available: '25000', requested: '40000', credit_limit: '100000', posted: '0', pending: '75000' });
  assert.deepEqual(parseDetail(undefined), {});
});

test('the SKU of an insufficient_stock error comes from its message, quotes included', () => {
  assert.equal(skuFromMessage('insufficient stock of "rice-25kg"'), 'rice-25kg');
  assert.equal(skuFromMessage('insufficient stock of "12" pipe"'), '12" pipe');
  assert.equal(skuFromMessage('something else'), null);
});

test('OC001 is 402 with the available credit', () => {
  const r = httpError(pgError('OC001', 'insufficient credit on account "r"',
    'available=25000.5, requested=40000, credit_limit=100000, posted=0, pending=74999.5'));
  assert.equal(r.status, 402);
  assert.deepEqual(r.body, { error: 'insufficient_credit', available: '25000.5', requested: '40000' });
});

test('OC004 is 409 with the SKU and the units left', () => {
  const r = httpError(pgError('OC004', 'insufficient stock of "tea"',
    'available=4, requested=99, on_hand=4, reserved=0'));
  assert.equal(r.status, 409);
  assert.deepEqual(r.body, { error: 'insufficient_stock', sku: 'tea', available: 4, requested: 99 });
});

test('the other codes a client can act on', () => {
  const cases = [
    ['OC002', 403, 'account_blocked'],
    ['OC003', 422, 'unknown_retailer'],
    ['OC005', 422, 'unknown_sku'],
    ['OC009', 422, 'idempotency_mismatch'],
    ['OC010', 409, 'request_in_progress'],
    ['22023', 400, 'invalid_request'],
    ['55P03', 503, 'busy'],
    ['40001', 503, 'busy'],
    ['40P01', 503, 'busy'],
    ['08006', 503, 'busy'],
  ];
  for (const [code, status, error] of cases) {
    const r = httpError(pgError(code, 'm', 'd'));
    assert.equal(r.status, status, code);
    assert.equal(r.body.error, error, code);
  }
  assert.equal(httpError(pgError('OC010')).headers['Retry-After'], '1');
  assert.equal(httpError(pgError('55P03')).headers['Retry-After'], '1');
});

test('anything else is 500 and carries nothing of the error', () => {
  for (const err of [pgError('42P01', 'relation "shop.secret" does not exist', 'SELECT * FROM shop.secret'),
    pgError('XX000', 'internal'), new TypeError('x is undefined'), undefined]) {
    const r = httpError(err);
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { error: 'internal_error' });
  }
});
