'use strict';
// A throwaway PostgreSQL 15 cluster for the tests, started with the
// repository's scripts/cluster.sh against the installed order_credit build,
// with the extension preloaded so that its sweeper expires unpaid orders.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');

const REPO = path.resolve(__dirname, '../../../..');
const CLUSTER_SH = path.join(REPO, 'scripts/cluster.sh');
const SCHEMA_SQL = path.join(__dirname, '../../sql/schema.sql');
const DATABASE = 'shop';

function startCluster(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc_node.'));
  fs.chmodSync(dir, 0o755);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [CLUSTER_SH, 'stop', dir], { stdio: 'inherit' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Also on a crash or an interrupted run, so no server outlives the tests.
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  }
  try {
    execFileSync('bash', [CLUSTER_SH, 'start', dir, String(port),
      'fsync = off',
      'synchronous_commit = off',
      "shared_preload_libraries = 'order_credit'",
      `order_credit.database = '${DATABASE}'`,
      "order_credit.sweep_interval = '100ms'",
      // 50 requests queue on one stock row and one account: room for a slow
      // machine. The 503 test sets a short timeout on its own connections.
      "order_credit.lock_timeout = '10s'",
    ], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    const log = path.join(dir, 'server.log');
    if (fs.existsSync(log)) process.stderr.write(fs.readFileSync(log, 'utf8'));
    stop();
    throw err;
  }
  // Lines of the server log that tell of a crash (as run_all's crash check).
  const crashes = () => {
    const log = path.join(dir, 'server.log');
    if (!fs.existsSync(log)) return [];
    return fs.readFileSync(log, 'utf8').split('\n').filter((line) => /terminated by signal|PANIC|TRAP:/.test(line));
  };
  return { dir, port, stop, crashes };
}

// Connection settings for a role on the test database (unix socket only).
function connection(cluster, user, extra = {}) {
  return { host: cluster.dir, port: cluster.port, user, database: DATABASE, ...extra };
}

// The database as a shop sets it up: the extension, an application role
// with the app tier of order_credit, the shop's own tables.
async function createShopDatabase(cluster) {
  const server = new Client(connection(cluster, 'postgres', { database: 'postgres' }));
  await server.connect();
  try {
    await server.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await server.end();
  }
  const db = new Client(connection(cluster, 'postgres'));
  await db.connect();
  try {
    await db.query('CREATE EXTENSION order_credit');
    await db.query('CREATE ROLE shop_app LOGIN');
    await db.query("SELECT order_credit.grant_app('shop_app')");
    await db.query(fs.readFileSync(SCHEMA_SQL, 'utf8'));
  } finally {
    await db.end();
  }
}

module.exports = { startCluster, connection, createShopDatabase };
