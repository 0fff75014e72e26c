'use strict';
// Entry point: node src/server.js
//   PG* variables or DATABASE_URL   the database (as a role granted with order_credit.grant_app)
//   WEBHOOK_SECRET                  shared secret of the payment provider's signatures (required)
//   PORT                            HTTP port (default 3000)
//   ORDER_TTL                       how long an order waits for its payment (default '15 minutes')
//   PG_POOL_MAX                     connections in the pool (default 20)
const { Pool } = require('pg');
const { createApp } = require('./app');

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL_MAX || 20),
});
pool.on('error', (err) => console.error('idle database connection failed:', err.message));

const server = createApp({
  pool,
  webhookSecret: process.env.WEBHOOK_SECRET,
  orderTtl: process.env.ORDER_TTL || '15 minutes',
});
server.listen(Number(process.env.PORT || 3000), () => {
  console.log(`node-orders listening on port ${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => pool.end()));
}
