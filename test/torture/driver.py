#!/usr/bin/python3
# Workload driver of the torture suite (test/torture/torture.sh). Not a test
# by itself: run_all.sh only runs test/torture/*.sh.
#
#   driver.py run --dsn DSN --sessions N --seed S --seconds T --out DIR
#                 [--isolation rc|mixed] [--allow-deadlock] [--ops N]
#
# N sessions (threads, one connection each). Session i draws its calls from
# random.Random(seed + i): the op, its arguments and the handle a
# follow-up call targets (a handle number drawn among those the session
# attempted before, whatever their outcome), so the same seed gives the same
# sequence of calls per session (fencing tokens aside: a session renews,
# releases and checks the tokens it was given, 10^12 before any); only the
# server's answers differ. Each call
# runs in its own transaction; some transactions bundle two calls, some are
# rolled back on purpose after the calls.
#
# DIR/s<i>.jsonl gets one line per transaction, written after its outcome is
# known:
#   outcome "ack"       COMMIT returned OK: everything in it must be present
#   outcome "rollback"  rolled back on purpose after the calls succeeded
#   outcome "error"     a call raised an error the contract allows (code)
#   outcome "lost"      the connection died before COMMIT was sent: the
#                       transaction cannot have committed
#   outcome "unknown"   the connection died during COMMIT: may or may not be
#   outcome "unexpected" any other error (the run fails)
# DIR/s<i>.calls lists the calls as drawn (no outcomes): equal for equal
# seeds. With --isolation mixed, even sessions run REPEATABLE READ and odd
# ones SERIALIZABLE and retry a transaction that failed with 40001 (also
# 40P01 with --allow-deadlock), as an application would.
import argparse
import decimal
import json
import os
import random
import sys
import threading
import time

import psycopg2
import psycopg2.extensions

ALLOWED = {"OC%03d" % i for i in range(1, 12)} | {"55P03"}
CONN_LOST_CODES = {"57P01", "57P02", "57P03", "08006", "08003", "08000", "08001"}
ACCOUNTS = ["acct-%d" % i for i in range(12)] + ["acct-blocked"]
SKUS = ["sku-a", "sku-b", "sku-c", "sku-scarce", "sku-last"]
LEASE_KEYS = ["lease-%d" % i for i in range(6)]
COUNTERS = ["ctr-%d" % i for i in range(4)]
AMOUNTS = ["1", "2.5", "7", "13.25", "40", "0.0001"]
PRICES = ["0", "1", "2.5", "9.99"]


class Retry(Exception):
    pass


class Declined(Exception):
    """The transaction's own logic chose not to commit (e.g. try_lock false)."""


def ttl(rng):
    # 30 %: a short expiry racing expire_due and the sweeper
    if rng.random() < 0.3:
        return "%d milliseconds" % rng.randrange(150, 1500)
    return "1 hour"


class Session(threading.Thread):
    def __init__(self, args, i, deadline, stop):
        super().__init__(daemon=True)
        self.a, self.i, self.deadline, self.stop = args, i, deadline, stop
        self.rng = random.Random(args.seed + i)
        self.pfx = "s%d-" % i
        self.n = 0
        self.credit, self.stock, self.orders, self.idem, self.lease_idem = [], [], [], [], []
        self.tokens = []  # (key, token) acked to this session
        self.conn = None
        self.log = open(os.path.join(args.out, "s%d.jsonl" % i), "w", buffering=1)
        self.calls = open(os.path.join(args.out, "s%d.calls" % i), "w", buffering=1)
        self.level = None
        if args.isolation == "mixed":
            self.level = ("REPEATABLE READ", "SERIALIZABLE")[i % 2]
        self.stats = {}

    # ------------------------------------------------------------ plumbing
    def connect(self):
        while True:
            try:
                c = psycopg2.connect(self.a.dsn, application_name="torture-%d" % self.i, connect_timeout=3)
                if self.level:
                    c.set_session(isolation_level=self.level)
                cur = c.cursor()
                cur.execute("SET order_credit.lock_timeout = '2s'")
                c.commit()
                self.conn = c
                return True
            except psycopg2.Error:
                if time.time() > self.deadline + 60 or self.stop.is_set():
                    return False
                time.sleep(0.25)

    def ref(self, kind):
        self.n += 1
        return "%s%s%d" % (self.pfx, kind, self.n)

    def pick(self, lst):
        # drawn whatever the list holds, so the draws do not depend on outcomes
        k = self.rng.randrange(1 << 30)
        return lst[k % len(lst)] if lst else None

    def emit(self, rec):
        self.last = rec
        self.log.write(json.dumps(rec, sort_keys=True) + "\n")
        self.stats[(rec["op"], rec["outcome"])] = self.stats.get((rec["op"], rec["outcome"]), 0) + 1

    def run_tx(self, op, body, info, rollback=False, call=None):
        """body(cur) -> dict of returned values; runs it in one transaction."""
        self.calls.write(json.dumps({"op": op, "info": call or info, "rollback": rollback}, sort_keys=True) + "\n")
        rec = {"s": self.i, "op": op, "info": info, "t": round(time.time(), 3)}
        tries = 0
        while True:
            if self.conn is None or self.conn.closed:
                if not self.connect():
                    rec["outcome"] = "lost"
                    self.emit(rec)
                    return
            stage = "calls"
            try:
                cur = self.conn.cursor()
                ret = body(cur)
                if rollback:
                    self.conn.rollback()
                    rec.update(outcome="rollback", ret=ret)
                else:
                    stage = "commit"
                    self.conn.commit()
                    rec.update(outcome="ack", ret=ret)
                break
            except Declined as e:
                try:
                    self.conn.rollback()
                    rec.update(outcome="declined", why=str(e))
                except psycopg2.Error as e2:  # died meanwhile: nothing committed
                    self.conn = None
                    rec.update(outcome="lost", msg=str(e2).strip()[:200])
                break
            except psycopg2.Error as e:
                code = e.pgcode
                closed = self.conn.closed != 0
                # no SQLSTATE: the client library's own error (connection gone)
                if closed or code is None or code in CONN_LOST_CODES or isinstance(e, psycopg2.InterfaceError):
                    try:
                        self.conn.close()
                    except psycopg2.Error:
                        pass
                    self.conn = None
                    rec.update(outcome="unknown" if stage == "commit" else "lost", msg=str(e).strip()[:200])
                    break
                try:
                    self.conn.rollback()
                except psycopg2.Error:
                    self.conn = None
                retryable = {"40001"} | ({"40P01"} if self.a.allow_deadlock else set())
                if self.level and code in retryable:
                    if tries < 30:
                        tries += 1
                        rec["retries"] = tries
                        rec.setdefault("retried_codes", []).append(code)
                        time.sleep(0.002 * tries)
                        continue
                    # an application gives up at some point and reports it
                    rec.update(outcome="error", code=code, gave_up=True, msg=str(e).strip()[:300])
                    break
                if self.a.allow_deadlock and code == "40P01":
                    rec.update(outcome="error", code=code, msg=str(e).strip()[:300])
                    break
                ok = code in ALLOWED or (op == "record_payment" and code == "22023")
                rec.update(outcome="error" if ok else "unexpected", code=code, stage=stage,
                           msg=str(e).strip()[:300])
                break
        self.emit(rec)

    # ------------------------------------------------------------ the ops
    def op_reserve_credit(self):
        r = self.rng
        ref, acct, amt, t = self.ref("h"), r.choice(ACCOUNTS), r.choice(AMOUNTS), ttl(r)
        bundle = r.random() < 0.15
        sku, qty = r.choice(SKUS), r.randrange(1, 4)
        use_try = r.random() < 0.25
        rb = r.random() < 0.1
        self.credit.append((ref, amt))
        if bundle:
            self.stock.append((ref, [sku]))
        info = {"ref": ref, "account": acct, "amount": amt, "ttl": t, "try": use_try}
        if bundle:
            info["stock"] = {"sku": sku, "quantity": qty}

        def body(cur):
            # Bundled: stock first, then credit, the extension's own lock
            # order (account before bucket across two calls can deadlock
            # against place_order; docs/stock.md, "The order spans one call").
            out = {}
            if bundle:
                cur.execute("SELECT status FROM order_credit.reserve_stock(%s, %s, %s, %s)", (sku, qty, ref, t))
                out["res"] = {sku: cur.fetchone()[0]}
            if use_try:
                cur.execute("SELECT ok, code, hold_id FROM order_credit.try_reserve_credit(%s, %s, %s, %s)",
                            (acct, amt, ref, t))
                ok, code, hid = cur.fetchone()
                out.update(ok=ok, code=code)
                if not ok:
                    raise Declined(code)
                out["hold"] = "pending"
            else:
                cur.execute("SELECT status, amount::text FROM order_credit.reserve_credit(%s, %s, %s, %s)",
                            (acct, amt, ref, t))
                st, a = cur.fetchone()
                out.update(hold=st, amount=a)
            return out
        self.run_tx("reserve_credit", body, info, rb)

    def op_capture(self):
        r = self.rng
        c = self.pick(self.credit)
        part = r.random() < 0.3
        rb = r.random() < 0.1
        if c is None:
            return
        ref, amt = c
        want = None
        if part:
            want = str(round(float(amt) / 2, 4)) if float(amt) >= 0.0002 else amt
        info = {"ref": ref, "amount": want}

        def body(cur):
            cur.execute("SELECT status, captured::text FROM order_credit.capture_credit(%s, %s)", (ref, want))
            st, cap = cur.fetchone()
            return {"hold": st, "captured": cap}
        self.run_tx("capture_credit", body, info, rb)

    def op_release_credit(self):
        r = self.rng
        c = self.pick(self.credit)
        rb = r.random() < 0.1
        if c is None:
            return
        info = {"ref": c[0]}

        def body(cur):
            cur.execute("SELECT status FROM order_credit.release_credit(%s, 'torture')", (c[0],))
            return {"hold": cur.fetchone()[0]}
        self.run_tx("release_credit", body, info, rb)

    def op_payment(self):
        r = self.rng
        acct, amt, pref = r.choice(ACCOUNTS[:12]), r.choice(["0.5", "1", "3"]), self.ref("p")
        rb = r.random() < 0.1
        info = {"account": acct, "amount": amt, "payment_ref": pref}

        def body(cur):
            cur.execute("SELECT posted::text FROM order_credit.record_payment(%s, %s, %s)", (acct, amt, pref))
            return {"posted": cur.fetchone()[0]}
        self.run_tx("record_payment", body, info, rb)

    def op_reserve_stock(self):
        r = self.rng
        ref, t = self.ref("r"), ttl(r)
        multi = r.random() < 0.35
        skus = r.sample(SKUS, r.randrange(2, 4)) if multi else [r.choice(SKUS)]
        qtys = [r.randrange(1, 6) for _ in skus]
        use_try = (not multi) and r.random() < 0.3
        rb = r.random() < 0.1
        self.stock.append((ref, skus))
        items = [{"sku": s, "quantity": q} for s, q in zip(skus, qtys)]
        info = {"ref": ref, "items": items, "ttl": t, "try": use_try}

        def body(cur):
            if use_try:
                cur.execute("SELECT ok, code FROM order_credit.try_reserve_stock(%s, %s, %s, %s)",
                            (skus[0], qtys[0], ref, t))
                ok, code = cur.fetchone()
                if not ok:
                    raise Declined(code)
                return {"res": {skus[0]: "active"}}
            if multi:
                cur.execute("SELECT sku, status FROM order_credit.reserve_stock(%s::jsonb, %s, %s)",
                            (json.dumps(items), ref, t))
            else:
                cur.execute("SELECT sku, status FROM order_credit.reserve_stock(%s, %s, %s, %s)",
                            (skus[0], qtys[0], ref, t))
            return {"res": dict(cur.fetchall())}
        self.run_tx("reserve_stock", body, info, rb)

    def op_stock_followup(self, fn):
        r = self.rng
        c = self.pick(self.stock)
        rb = r.random() < 0.1
        if c is None:
            return
        info = {"ref": c[0]}

        def body(cur):
            if fn == "commit_stock":
                cur.execute("SELECT sku, status FROM order_credit.commit_stock(%s)", (c[0],))
            else:
                cur.execute("SELECT sku, status FROM order_credit.release_stock(%s, 'torture')", (c[0],))
            rows = cur.fetchall()
            if not rows:
                raise Declined("no rows")
            return {"res": dict(rows)}
        self.run_tx(fn, body, info, rb)

    def op_adjust(self):
        r = self.rng
        sku, delta = r.choice(SKUS), r.choice([-3, -1, 2, 5, 10])
        reason = "torture adj %s%d" % (self.pfx, self.n)
        self.n += 1
        rb = r.random() < 0.1
        info = {"sku": sku, "delta": delta, "reason": reason}

        def body(cur):
            cur.execute("SELECT on_hand FROM order_credit.adjust_stock(%s, %s, %s)", (sku, delta, reason))
            return {"on_hand": cur.fetchone()[0]}
        self.run_tx("adjust_stock", body, info, rb)

    def op_place_order(self):
        r = self.rng
        ref, t = self.ref("o"), ttl(r)
        skus = r.sample(SKUS, r.randrange(1, 4))
        items = [{"sku": s, "quantity": r.randrange(1, 4), "unit_price": r.choice(PRICES)} for s in skus]
        acct = r.choice(ACCOUNTS) if r.random() < 0.85 else None
        keyed = r.random() < 0.15
        rb = r.random() < 0.1
        self.orders.append(ref)
        total = sum(it["quantity"] * decimal.Decimal(it["unit_price"]) for it in items)
        # unit_price as a JSON number, written from the decimal string
        jitems = "[" + ", ".join('{"sku": "%s", "quantity": %d, "unit_price": %s}' % (it["sku"], it["quantity"], it["unit_price"])
                                 for it in items) + "]"
        info = {"ref": ref, "items": items, "account": acct, "ttl": t, "total": str(total), "key": keyed}

        # keyed: inside an idempotency key (begin, place_order, complete):
        # key and order commit or vanish together. (Not bundled with
        # confirm_order: a reservation committed in the transaction that made
        # it can deadlock, docs/stock.md.)
        def body(cur):
            if keyed:
                cur.execute("SELECT state FROM order_credit.idempotency_begin(%s, %s)", ("key-" + ref, "fp-" + ref))
                st = cur.fetchone()[0]
                if st != "new":
                    return {"state": st, "violation": "fresh key answered %s" % st}
            cur.execute("SELECT status, amount::text FROM order_credit.place_order(%s, %s::jsonb, %s, %s)",
                        (ref, jitems, acct, t))
            st, amt = cur.fetchone()
            if keyed:
                cur.execute("SELECT order_credit.idempotency_complete(%s, %s::jsonb, 201)",
                            ("key-" + ref, json.dumps({"ref": ref})))
            return {"order": st, "amount": amt}
        self.run_tx("place_order", body, info, rb)

    def op_order_followup(self, fn):
        r = self.rng
        ref = self.pick(self.orders)
        target = r.choice(["processing", "shipped", "delivered"])
        rb = r.random() < 0.1
        if ref is None:
            return
        info = {"ref": ref}
        if fn == "set_order_status":
            info["status"] = target

        def body(cur):
            if fn == "confirm_order":
                cur.execute("SELECT status FROM order_credit.confirm_order(%s, %s)", (ref, "pay-" + ref))
            elif fn == "cancel_order":
                cur.execute("SELECT status FROM order_credit.cancel_order(%s, 'torture')", (ref,))
            else:
                cur.execute("SELECT status FROM order_credit.set_order_status(%s, %s)", (ref, target))
            return {"order": cur.fetchone()[0]}
        self.run_tx(fn, body, info, rb)

    def op_idem_new(self):
        # One transaction: the key, the business write and the response.
        r = self.rng
        key = self.ref("k")
        acct, amt = r.choice(ACCOUNTS[:12]), r.choice(AMOUNTS)
        rb = r.random() < 0.15
        self.idem.append(key)
        info = {"key": key, "ref": key, "account": acct, "amount": amt}

        def body(cur):
            cur.execute("SELECT state FROM order_credit.idempotency_begin(%s, %s)", (key, "fp-" + key))
            st = cur.fetchone()[0]
            if st != "new":
                return {"state": st, "violation": "fresh key answered %s" % st}
            cur.execute("SELECT status FROM order_credit.reserve_credit(%s, %s, %s, '1 hour')", (acct, amt, key))
            cur.execute("SELECT order_credit.idempotency_complete(%s, %s::jsonb, 201)",
                        (key, json.dumps({"ref": key})))
            return {"state": st}
        self.run_tx("idem_new", body, info, rb)

    def op_idem_replay(self):
        key = self.pick(self.idem)
        if key is None:
            return
        info = {"key": key}

        def body(cur):
            cur.execute("SELECT state, response::text, response_code FROM order_credit.idempotency_begin(%s, %s)",
                        (key, "fp-" + key))
            st, resp, rc = cur.fetchone()
            if st != "replay":
                # never begun (or rolled back): leave nothing behind
                raise Declined(st)
            return {"state": st, "response": json.loads(resp), "code": rc}
        self.run_tx("idem_replay", body, info)

    def op_idem_lease(self):
        # begin with a short lease and commit (the "call an outside service"
        # pattern); a later op resumes or replays it and completes.
        r = self.rng
        key = self.ref("L")
        lease = "%d milliseconds" % r.randrange(200, 1200)
        self.lease_idem.append(key)
        info = {"key": key, "lease": lease}

        def body(cur):
            cur.execute("SELECT state FROM order_credit.idempotency_begin(%s, %s, %s)", (key, "fp-" + key, lease))
            st = cur.fetchone()[0]
            cur.execute("SELECT order_credit.idempotency_checkpoint(%s, 'called')", (key,))
            return {"state": st}
        self.run_tx("idem_lease", body, info)

    def op_idem_finish(self):
        key = self.pick(self.lease_idem)
        if key is None:
            return
        info = {"key": key}

        def body(cur):
            cur.execute("SELECT state, recovery_point FROM order_credit.idempotency_begin(%s, %s)",
                        (key, "fp-" + key))
            st, rp = cur.fetchone()
            if st == "new":
                raise Declined("new")
            if st in ("in_progress", "replay"):
                return {"state": st}
            cur.execute("SELECT order_credit.idempotency_complete(%s, %s::jsonb)", (key, json.dumps({"done": key})))
            return {"state": st, "recovery_point": rp, "completed": True}
        self.run_tx("idem_finish", body, info)

    def op_event(self):
        r = self.rng
        eid = "ev-%d" % r.randrange(3000)
        rb = r.random() < 0.1
        # half of them: the consumer's write in the same transaction, done
        # only when the event is new (the hold commits with the event row)
        ref, acct = self.ref("e"), r.choice(ACCOUNTS[:12])
        write = r.random() < 0.5
        info = {"source": "torture", "event_id": eid}
        if write:
            info.update(ref=ref, account=acct, amount="1")

        def body(cur):
            cur.execute("SELECT order_credit.process_once('torture', %s)", (eid,))
            first = cur.fetchone()[0]
            out = {"first": first}
            if write and first:
                cur.execute("SELECT status FROM order_credit.reserve_credit(%s, 1, %s, '1 hour')", (acct, ref))
                out["hold"] = cur.fetchone()[0]
            return out
        self.run_tx("process_once", body, info, rb)

    def op_lease(self):
        r = self.rng
        key = r.choice(LEASE_KEYS)
        t = "%d milliseconds" % r.randrange(300, 2000)
        what = r.choice(["acquire", "acquire", "renew", "release", "fence"])
        # before this session was given a token: one never handed out
        tk = self.pick(self.tokens) or (key, 10 ** 12)
        owner = "own-%d" % self.i
        info = {"what": what, "key": key if what == "acquire" else tk[0], "owner": owner, "ttl": t}

        def body(cur):
            if what == "acquire":
                cur.execute("SELECT order_credit.acquire_lease(%s, %s, %s)", (key, owner, t))
                return {"token": cur.fetchone()[0]}
            if what == "renew":
                cur.execute("SELECT order_credit.renew_lease(%s, %s, %s, %s)", (tk[0], owner, tk[1], t))
            elif what == "release":
                cur.execute("SELECT order_credit.release_lease(%s, %s, %s)", (tk[0], owner, tk[1]))
            else:
                cur.execute("SELECT order_credit.check_fence(%s, %s) IS NULL", (tk[0], tk[1]))
            return {"result": cur.fetchone()[0], "token": tk[1]}
        # the call list leaves out the token's key, which depends on outcomes
        self.run_tx("lease", body, info, call={"what": what, "key": key, "ttl": t})
        last = self.last
        if what == "acquire" and last["outcome"] == "ack" and last["ret"]["token"]:
            self.tokens.append((key, last["ret"]["token"]))

    def op_counter(self):
        # A read-modify-write made safe only by the named lock.
        r = self.rng
        key = r.choice(COUNTERS)
        use_try = r.random() < 0.3
        rb = r.random() < 0.1
        info = {"key": key, "try": use_try}

        def body(cur):
            if use_try:
                cur.execute("SELECT order_credit.try_lock(%s)", (key,))
                if not cur.fetchone()[0]:
                    raise Declined("busy")
            else:
                cur.execute("SELECT order_credit.lock(%s)", (key,))
            cur.execute("SELECT v FROM torture_counter WHERE k = %s", (key,))
            v = cur.fetchone()[0]
            cur.execute("UPDATE torture_counter SET v = %s WHERE k = %s", (v + 1, key))
            return {"read": v}
        self.run_tx("counter", body, info, rb)

    def op_expire_due(self):
        def body(cur):
            cur.execute("SELECT order_credit.expire_due(50)")
            return {"expired": cur.fetchone()[0]}
        self.run_tx("expire_due", body, {})

    OPS = [("reserve_credit", 10), ("capture", 6), ("release_credit", 3), ("payment", 2),
           ("reserve_stock", 9), ("commit_stock", 4), ("release_stock", 3), ("adjust", 1),
           ("place_order", 10), ("confirm_order", 6), ("set_order_status", 4), ("cancel_order", 3),
           ("idem_new", 3), ("idem_replay", 2), ("idem_lease", 1), ("idem_finish", 2),
           ("event", 4), ("lease", 4), ("counter", 3), ("expire_due", 3)]

    def step(self):
        names = [o for o, _ in self.OPS]
        w = [x for _, x in self.OPS]
        op = self.rng.choices(names, w)[0]
        if op in ("commit_stock", "release_stock"):
            self.op_stock_followup(op)
        elif op in ("confirm_order", "set_order_status", "cancel_order"):
            self.op_order_followup(op)
        elif op == "capture":
            self.op_capture()
        elif op == "payment":
            self.op_payment()
        elif op == "adjust":
            self.op_adjust()
        else:
            getattr(self, "op_" + op)()

    def run(self):
        done = 0
        while not self.stop.is_set() and time.time() < self.deadline:
            if self.a.ops and done >= self.a.ops:
                break
            try:
                self.step()
            except Exception as e:  # a driver bug: record it (the run fails) and stop this session
                import traceback
                self.emit({"s": self.i, "op": "driver", "info": {}, "outcome": "unexpected", "code": "driver",
                           "msg": traceback.format_exc()[-600:], "t": time.time()})
                break
            done += 1
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.log.close()
        self.calls.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["run"])
    p.add_argument("--dsn", required=True)
    p.add_argument("--sessions", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--ops", type=int, default=0, help="stop each session after this many calls")
    p.add_argument("--stop-file", default=None,
                   help="run until this file exists (then --seconds is only a 10-minute safety limit)")
    p.add_argument("--out", required=True)
    p.add_argument("--isolation", choices=["rc", "mixed"], default="rc")
    p.add_argument("--allow-deadlock", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stop = threading.Event()
    deadline = time.time() + (600 if a.stop_file else a.seconds)
    ss = [Session(a, i, deadline, stop) for i in range(a.sessions)]
    for s in ss:
        s.start()
    while a.stop_file and any(s.is_alive() for s in ss) and not os.path.exists(a.stop_file):
        time.sleep(0.1)
    stop.set()
    for s in ss:
        s.join()
    tot = {}
    for s in ss:
        for k, v in s.stats.items():
            tot[k] = tot.get(k, 0) + v
    with open(os.path.join(a.out, "driver_stats.json"), "w") as f:
        json.dump({"%s/%s" % k: v for k, v in sorted(tot.items())}, f, indent=1, sort_keys=True)
    bad = sum(v for (op, oc), v in tot.items() if oc == "unexpected")
    print("driver: %d transactions, %d unexpected errors" % (sum(tot.values()), bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
