#!/usr/bin/python3
# Reconciliation of one torture run (test/torture/torture.sh): the sessions'
# logs (driver.py) against what the database holds after the faults.
#
#   reconcile.py --dsn DSN --out DIR --label MODE
#
# Rules (a handle is an order_ref, key, payment_ref, event or counter; every
# handle but the shared events, leases and counters belongs to one session):
#  - every transaction acknowledged (COMMIT returned OK) is present with its
#    effect: the state the server returned for the last acknowledged call on a
#    handle is the state stored now (a pending hold / active reservation /
#    pending order of a short expiry reads expired by now);
#  - nothing is present that no acknowledged (or unknown: connection lost
#    during COMMIT) transaction made: rolled back on purpose, refused, or cut
#    off before COMMIT leaves no row;
#  - exactly once: an event answered true at most once among the acknowledged;
#    fencing tokens never handed to two owners; counters guarded by a named
#    lock lost no increment;
#  - stock: reserved <= on_hand in every bucket, on_hand = stock_audit,
#    reserved = the live reservations, every committed reservation has its
#    sale and no sale lacks one; credit: posted + pending <= credit_limit,
#    pending = pending holds, posted = captured - payments;
#  - verify() returns no rows; amcheck (bt_index_check with heapallindexed) on
#    every index of the order_credit schema.
# Prints the figures; exit status 1 when a rule is broken.
import argparse
import collections
import glob
import json
import os
import sys
from decimal import Decimal

import psycopg2

FAIL = []
OKS = collections.Counter()


def fail(msg):
    FAIL.append(msg)


def short(t):
    return t is not None and t != "1 hour"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dsn", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--label", default="")
    p.add_argument("--after", type=float, default=0,
                   help="epoch of the last restart: some transactions must be acknowledged after it")
    a = p.parse_args()

    recs = []
    for f in sorted(glob.glob(os.path.join(a.out, "s*.jsonl"))):
        with open(f) as fh:
            recs.extend(json.loads(line) for line in fh if line.strip())
    by_outcome = collections.Counter(r["outcome"] for r in recs)
    acked = collections.Counter(r["op"] for r in recs if r["outcome"] == "ack")

    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    # Sweep whatever fell due (the short expiries) so stored = effective.
    while True:
        cur.execute("SELECT order_credit.expire_due()")
        if cur.fetchone()[0] == 0:
            break

    def q(sql, args=None):
        cur.execute(sql, args)
        return cur.fetchall()

    # --------------------------------------------------- per-handle timelines
    # holds[ref] = {"made": ack|unknown|None, "ttl", "amount", "account",
    #               "last": (status, captured) of the last acknowledged call,
    #               "after": True when an unknown call followed it}
    holds, res, orders, keys, pays, adjs = {}, {}, {}, {}, {}, {}
    res_skus = {}  # order_ref -> its SKUs in res
    rolled = []  # (kind, handle) created by a transaction rolled back on purpose

    def touch(d, h, r, new=None):
        e = d.setdefault(h, {"made": None, "last": None, "after": False})
        if d is res:
            res_skus.setdefault(h[0], set()).add(h[1])
        if new is not None and r["outcome"] in ("ack", "unknown") and e["made"] != "ack":
            e["made"] = r["outcome"]
            e.update(new)
        return e

    def settle(e, r, state):
        if r["outcome"] == "ack":
            e["last"], e["after"] = state, False
        elif r["outcome"] == "unknown":
            e["after"] = True

    for r in recs:  # per session in order: handles are session-private
        op, info, oc, ret = r["op"], r["info"], r["outcome"], r.get("ret") or {}
        if ret.get("violation"):
            fail("%s %s: %s" % (op, info, ret["violation"]))
        if op == "reserve_credit":
            e = touch(holds, info["ref"], r, {"ttl": info["ttl"], "amount": info["amount"], "account": info["account"]})
            settle(e, r, (ret.get("hold"), None))
            if "stock" in info:
                e2 = touch(res, (info["ref"], info["stock"]["sku"]), r, {"ttl": info["ttl"], "qty": info["stock"]["quantity"]})
                settle(e2, r, (ret.get("res") or {}).get(info["stock"]["sku"]))
            if oc == "rollback":
                rolled.append(("hold", info["ref"]))
        elif op in ("capture_credit", "release_credit"):
            e = touch(holds, info["ref"], r)
            settle(e, r, (ret.get("hold"), ret.get("captured")))
        elif op == "idem_new":
            if ret.get("state") == "new" or oc == "unknown":
                e = touch(holds, info["ref"], r, {"ttl": "1 hour", "amount": info["amount"], "account": info["account"]})
                settle(e, r, ("pending", None))
                k = touch(keys, info["key"], r, {"want": ("completed", {"ref": info["key"]})})
                settle(k, r, "completed")
            if oc == "rollback":
                rolled += [("hold", info["ref"]), ("key", info["key"])]
        elif op == "process_once" and "ref" in info:
            if ret.get("first") or oc == "unknown":
                e = touch(holds, info["ref"], r, {"ttl": "1 hour", "amount": "1", "account": info["account"]})
                settle(e, r, ("pending", None))
            if oc == "rollback":
                rolled.append(("hold", info["ref"]))
        elif op == "reserve_stock":
            for it in info["items"]:
                e = touch(res, (info["ref"], it["sku"]), r, {"ttl": info["ttl"], "qty": it["quantity"]})
                settle(e, r, (ret.get("res") or {}).get(it["sku"]))
                if oc == "rollback":
                    rolled.append(("res", (info["ref"], it["sku"])))
        elif op in ("commit_stock", "release_stock"):
            for sku in res_skus.get(info["ref"], ()):
                settle(res[(info["ref"], sku)], r, (ret.get("res") or {}).get(sku))
        elif op == "place_order":
            e = touch(orders, info["ref"], r, {"ttl": info["ttl"], "info": info})
            settle(e, r, ret.get("order"))
            if info.get("key"):
                k = touch(keys, "key-" + info["ref"], r, {"want": ("completed", {"ref": info["ref"]})})
                settle(k, r, "completed")
            if oc == "rollback":
                rolled.append(("order", info["ref"]))
                if info.get("key"):
                    rolled.append(("key", "key-" + info["ref"]))
        elif op in ("confirm_order", "set_order_status", "cancel_order"):
            e = touch(orders, info["ref"], r)
            settle(e, r, ret.get("order"))
        elif op == "record_payment":
            e = touch(pays, (info["account"], info["payment_ref"]), r, {"amount": info["amount"]})
            settle(e, r, "paid")
            if oc == "rollback":
                rolled.append(("pay", (info["account"], info["payment_ref"])))
        elif op == "adjust_stock":
            e = touch(adjs, info["reason"], r, {"delta": info["delta"], "sku": info["sku"]})
            if oc == "rollback":
                rolled.append(("adj", info["reason"]))
        elif op == "idem_lease":
            k = touch(keys, info["key"], r, {"want": ("in_progress", None)})
            settle(k, r, "in_progress")
        elif op == "idem_finish":
            k = keys.get(info["key"])
            if k is not None:
                # completed by this call, or found completed (replay: by an
                # earlier call whose COMMIT outcome was unknown)
                if oc == "ack" and (ret.get("completed") or ret.get("state") == "replay"):
                    k["want"] = ("completed", {"done": info["key"]})
                settle(k, r, k["last"])
            if k is not None and k["made"] == "ack" and oc in ("ack", "declined") and \
                    (r.get("why") == "new" or ret.get("state") == "new"):
                fail("idem_finish %s: an acknowledged key read as new" % info["key"])
        elif op == "idem_replay":
            k = keys.get(info["key"])
            if k is not None and k["made"] == "ack" and k["last"] == "completed" and not k["after"]:
                if oc == "ack":
                    if ret.get("response") != {"ref": info["key"]} or ret.get("code") != 201:
                        fail("idem_replay %s: replayed %s/%s" % (info["key"], ret.get("response"), ret.get("code")))
                    else:
                        OKS["idempotency replays of acknowledged keys answered with their response"] += 1
                elif oc == "declined":
                    fail("idem_replay %s: acknowledged key answered %s instead of replay" % (info["key"], r.get("why")))

    # ------------------------------------------------------------------ holds
    db_holds = {h[0]: h[1:] for h in q("""
        SELECT order_ref, account, amount, captured,
               CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END
          FROM order_credit.holds WHERE order_ref LIKE 's%'""")}
    for ref, e in holds.items():
        row = db_holds.get(ref)
        if e["made"] == "ack":
            if row is None:
                fail("hold %s acknowledged, missing" % ref)
                continue
            if row[0] != e["account"] or row[1] != Decimal(e["amount"]):
                fail("hold %s: stored %s %s, acknowledged %s %s" % (ref, row[0], row[1], e["account"], e["amount"]))
            if e["last"] and not e["after"]:
                st, cap = e["last"]
                if st == "pending" and short(e["ttl"]):
                    st = "expired"
                if row[3] != st:
                    fail("hold %s: status %s, last acknowledged %s" % (ref, row[3], e["last"]))
                elif cap is not None and st == "captured" and row[2] != Decimal(cap):
                    fail("hold %s: captured %s, acknowledged %s" % (ref, row[2], cap))
                else:
                    OKS["holds with their acknowledged state"] += 1
        elif e["made"] is None and row is not None:
            fail("hold %s present, never acknowledged" % ref)
    for ref in db_holds:
        if ref not in holds and ref not in orders:
            fail("hold %s present, never requested" % ref)

    # ----------------------------------------------------------- reservations
    db_res = {(x[0], x[1]): x[2:] for x in q("""
        SELECT order_ref, sku, quantity,
               CASE WHEN status = 'active' AND expires_at <= now() THEN 'expired' ELSE status END
          FROM order_credit.reservations WHERE order_ref LIKE 's%'""")}
    for h, e in res.items():
        row = db_res.get(h)
        if e["made"] == "ack":
            if row is None:
                fail("reservation %s acknowledged, missing" % (h,))
                continue
            if row[0] != e["qty"]:
                fail("reservation %s: quantity %s, acknowledged %s" % (h, row[0], e["qty"]))
            if e["last"] and not e["after"]:
                st = e["last"]
                if st == "active" and short(e["ttl"]):
                    st = "expired"
                if row[1] != st:
                    fail("reservation %s: status %s, last acknowledged %s" % (h, row[1], e["last"]))
                else:
                    OKS["reservations with their acknowledged state"] += 1
        elif e["made"] is None and row is not None:
            fail("reservation %s present, never acknowledged" % (h,))
    order_refs = set(orders)
    for h in db_res:
        if h not in res and h[0] not in order_refs:
            fail("reservation %s present, never requested" % (h,))

    # ----------------------------------------------------------------- orders
    db_orders = {x[0]: x[1:] for x in q("""
        SELECT order_ref, account, amount,
               CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END
          FROM order_credit.orders WHERE order_ref LIKE 's%'""")}
    hold_ok = {"pending": {"pending"}, "expired": {"expired"}, "paid": {"captured"}, "processing": {"captured"},
               "shipped": {"captured"}, "delivered": {"captured"}, "cancelled": {"voided", "reversed"}}
    res_ok = {"pending": {"active"}, "expired": {"expired"}, "paid": {"committed"}, "processing": {"committed"},
              "shipped": {"committed"}, "delivered": {"committed"}, "cancelled": {"released", "committed"}}
    for ref, e in orders.items():
        row = db_orders.get(ref)
        if e["made"] == "ack":
            if row is None:
                fail("order %s acknowledged, missing" % ref)
                continue
            info = e["info"]
            if row[1] != Decimal(info["total"]) or row[0] != info["account"]:
                fail("order %s: stored %s %s, placed %s %s" % (ref, row[0], row[1], info["account"], info["total"]))
            st = row[2]
            # An order cancelled right at its expiry: cancel_order judged it
            # pending at its statement time while the sweeper, later, had
            # expired its hold and reservations; cancelling those returns
            # them unchanged. The credit and units are back either way.
            edge = {"expired"} if st == "cancelled" and short(e["ttl"]) else set()
            if e["last"] and not e["after"]:
                want = e["last"]
                if want == "pending" and short(e["ttl"]):
                    want = "expired"
                if st != want:
                    fail("order %s: status %s, last acknowledged %s" % (ref, st, e["last"]))
                else:
                    OKS["orders with their acknowledged state"] += 1
            # the order's own rows agree with it
            for it in info["items"]:
                rr = db_res.get((ref, it["sku"]))
                if rr is None or rr[0] != it["quantity"]:
                    fail("order %s: reservation of %s is %s" % (ref, it["sku"], rr))
                elif rr[1] not in res_ok[st] | edge:
                    fail("order %s (%s): reservation of %s is %s" % (ref, st, it["sku"], rr[1]))
            hr = db_holds.get(ref)
            if info["account"] and float(info["total"]) > 0:
                if hr is None:
                    fail("order %s: hold missing" % ref)
                elif hr[3] not in hold_ok[st] | edge or hr[0] != info["account"]:
                    fail("order %s (%s): hold %s" % (ref, st, hr))
                else:
                    OKS["orders whose hold and reservations agree"] += 1
            elif hr is not None:
                fail("order %s without credit has a hold" % ref)
        elif e["made"] is None:
            if row is not None:
                fail("order %s present, never acknowledged" % ref)
            if ref in db_holds or any(h[0] == ref for h in db_res):
                fail("order %s never acknowledged, but has a hold or reservations" % ref)
    for ref in db_orders:
        if ref not in orders:
            fail("order %s present, never requested" % ref)

    # -------------------------------------------------- payments, adjustments
    db_pays = {(x[0], x[1]): x[2] for x in q("SELECT account, payment_ref, amount FROM order_credit.payments")}
    for h, e in pays.items():
        if e["made"] == "ack" and h not in db_pays:
            fail("payment %s acknowledged, missing" % (h,))
        elif e["made"] is None and h in db_pays:
            fail("payment %s present, never acknowledged" % (h,))
        elif e["made"] == "ack":
            OKS["payments present"] += 1
    for h in db_pays:
        if h not in pays:
            fail("payment %s present, never requested" % (h,))
    db_adj = {x[0]: (x[1], x[2]) for x in q("SELECT reason, sku, delta FROM order_credit.stock_audit WHERE kind = 'adjust' AND reason LIKE 'torture adj %'")}
    for reason, e in adjs.items():
        row = db_adj.get(reason)
        if e["made"] == "ack":
            if row != (e["sku"], e["delta"]):
                fail("adjust_stock %r acknowledged, audit has %s" % (reason, row))
            else:
                OKS["stock adjustments in stock_audit"] += 1
        elif e["made"] is None and row is not None:
            fail("adjust_stock %r present, never acknowledged" % reason)
    for reason in db_adj:
        if reason not in adjs:
            fail("adjust %r present, never requested" % reason)

    # ------------------------------------------------------- idempotency keys
    db_keys = {x[0]: (x[1], x[2]) for x in q("SELECT key, state, response FROM order_credit.idempotency_keys")}
    for key, e in keys.items():
        row = db_keys.get(key)
        if e["made"] == "ack":
            if row is None:
                fail("idempotency key %s acknowledged, missing" % key)
            elif not e["after"]:
                want_state, want_resp = e["want"]
                if row[0] != want_state or (want_resp is not None and row[1] != want_resp):
                    fail("idempotency key %s: %s %s, acknowledged %s %s" % (key, row[0], row[1], want_state, want_resp))
                else:
                    OKS["idempotency keys with their acknowledged state"] += 1
        elif e["made"] is None and row is not None:
            fail("idempotency key %s present, never acknowledged" % key)
    for key in db_keys:
        if key not in keys:
            fail("idempotency key %s present, never requested" % key)

    # --------------------------------------------------------- rolled back
    present = {"hold": db_holds, "res": db_res, "order": db_orders, "pay": db_pays, "key": db_keys, "adj": db_adj}
    table = {"hold": holds, "res": res, "order": orders, "pay": pays, "key": keys, "adj": adjs}
    for kind, h in rolled:
        e = table[kind].get(h)
        if e is not None and e["made"] is None:
            if h in present[kind]:
                fail("%s %s rolled back, present" % (kind, h))
            else:
                OKS["rolled-back transactions verified absent"] += 1

    # ---------------------------------------------------------------- events
    ev = collections.defaultdict(lambda: {"true": 0, "false": 0, "unknown": 0})
    for r in recs:
        if r["op"] != "process_once":
            continue
        d = ev[r["info"]["event_id"]]
        if r["outcome"] == "ack":
            d["true" if r["ret"]["first"] else "false"] += 1
        elif r["outcome"] == "unknown":
            d["unknown"] += 1
    db_ev = {x[0] for x in q("SELECT event_id FROM order_credit.processed_events WHERE source = 'torture'")}
    for eid, d in ev.items():
        if d["true"] > 1:
            fail("event %s: process_once answered true %d times (acknowledged)" % (eid, d["true"]))
        if d["true"] == 1 and eid not in db_ev:
            fail("event %s acknowledged as processed, missing" % eid)
        if eid in db_ev and d["true"] == 0 and d["unknown"] == 0:
            fail("event %s present, never acknowledged as processed" % eid)
        if d["false"] and eid not in db_ev:
            fail("event %s answered 'already processed', but not present" % eid)
        if d["true"] == 1 and eid in db_ev:
            OKS["events processed exactly once"] += 1
    for eid in db_ev - set(ev):
        fail("event %s present, never requested" % eid)

    # ---------------------------------------------------------------- leases
    tok_owner = collections.defaultdict(set)
    max_tok = collections.Counter()
    for r in recs:
        if r["op"] == "lease" and r["outcome"] == "ack" and r["info"]["what"] == "acquire" and r["ret"]["token"]:
            tok_owner[(r["info"]["key"], r["ret"]["token"])].add(r["info"]["owner"])
            max_tok[r["info"]["key"]] = max(max_tok[r["info"]["key"]], r["ret"]["token"])
    db_lease = dict(q("SELECT key, token FROM order_credit.leases"))
    for (key, tok), owners in tok_owner.items():
        if len(owners) > 1:
            fail("lease %s token %s handed to %s" % (key, tok, sorted(owners)))
    for key, tok in max_tok.items():
        if db_lease.get(key, 0) < tok:
            fail("lease %s: token %s stored, %s acknowledged" % (key, db_lease.get(key), tok))
        else:
            OKS["lease keys whose token is >= every acknowledged token"] += 1
    OKS["fencing tokens acknowledged (each to one owner)"] += len(tok_owner)

    # -------------------------------------------------------------- counters
    cnt = collections.defaultdict(lambda: {"ack": 0, "unknown": 0, "reads": []})
    for r in recs:
        if r["op"] == "counter" and r["outcome"] in ("ack", "unknown"):
            cnt[r["info"]["key"]][r["outcome"]] += 1
            if r["outcome"] == "ack":
                cnt[r["info"]["key"]]["reads"].append(r["ret"]["read"])
    for key, v in q("SELECT k, v FROM public.torture_counter"):
        d = cnt[key]
        if not d["ack"] <= v <= d["ack"] + d["unknown"]:
            fail("counter %s = %d: %d acknowledged increments, %d unknown" % (key, v, d["ack"], d["unknown"]))
        if len(set(d["reads"])) != len(d["reads"]):
            fail("counter %s: two acknowledged increments read the same value (named lock not exclusive)" % key)
        OKS["named-lock counter increments acknowledged"] += d["ack"]

    # ----------------------------------------------------------------- stock
    for sku, bucket, on_hand, reserved in q("SELECT sku, bucket, on_hand, reserved FROM order_credit.stock_buckets"):
        if not 0 <= reserved <= on_hand:
            fail("oversold: %s bucket %s on_hand %s reserved %s" % (sku, bucket, on_hand, reserved))
    for row in q("""
        SELECT i.sku, b.on_hand, b.reserved,
               (SELECT coalesce(sum(delta), 0) FROM order_credit.stock_audit a WHERE a.sku = i.sku),
               (SELECT on_hand_after FROM order_credit.stock_audit a WHERE a.sku = i.sku ORDER BY audit_id DESC LIMIT 1),
               (SELECT coalesce(sum(quantity), 0) FROM order_credit.reservations r
                 WHERE r.sku = i.sku AND r.status = 'active' AND (r.expires_at IS NULL OR r.expires_at > now())),
               (SELECT coalesce(sum(quantity), 0) FROM order_credit.reservations r
                 WHERE r.sku = i.sku AND r.status = 'committed'),
               (SELECT coalesce(-sum(delta), 0) FROM order_credit.stock_audit a WHERE a.sku = i.sku AND kind = 'sale')
          FROM order_credit.items i
          JOIN (SELECT sku, sum(on_hand) on_hand, sum(reserved) reserved FROM order_credit.stock_buckets GROUP BY sku) b
            ON b.sku = i.sku ORDER BY 1"""):
        sku, on_hand, reserved, audit_sum, audit_last, live, committed, sold = row
        if not (on_hand == audit_sum == audit_last):
            fail("stock %s: on_hand %s, audit sum %s, last on_hand_after %s" % (sku, on_hand, audit_sum, audit_last))
        if reserved != live:
            fail("stock %s: reserved %s, live reservations %s" % (sku, reserved, live))
        if committed != sold:
            fail("stock %s: committed reservations %s units, sales in stock_audit %s" % (sku, committed, sold))
        OKS["SKUs reconciled (on_hand = audit, reserved = live, committed = sold)"] += 1
        print("  %-10s on_hand %6d reserved %4d sold %5d" % (sku, on_hand, reserved, sold))
    for ref, sku, n in q("""
        SELECT r.order_ref, r.sku, count(a.*) FROM order_credit.reservations r
          LEFT JOIN order_credit.stock_audit a ON a.kind = 'sale' AND a.order_ref = r.order_ref AND a.sku = r.sku
         WHERE r.status = 'committed' GROUP BY 1, 2 HAVING count(a.*) <> 1"""):
        fail("committed reservation %s/%s has %d sales" % (ref, sku, n))
    for ref, sku in q("""
        SELECT a.order_ref, a.sku FROM order_credit.stock_audit a WHERE a.kind = 'sale' AND NOT EXISTS (
          SELECT 1 FROM order_credit.reservations r WHERE r.order_ref = a.order_ref AND r.sku = a.sku
                                                     AND r.status = 'committed')"""):
        fail("sale of %s/%s without a committed reservation" % (ref, sku))

    # ---------------------------------------------------------------- credit
    for row in q("""
        SELECT a.account, a.credit_limit, a.posted, a.pending,
               (SELECT coalesce(sum(amount), 0) FROM order_credit.holds h WHERE h.account = a.account AND h.status = 'pending'),
               (SELECT coalesce(sum(captured), 0) FROM order_credit.holds h WHERE h.account = a.account AND h.status = 'captured'),
               (SELECT coalesce(sum(amount), 0) FROM order_credit.payments p WHERE p.account = a.account)
          FROM order_credit.accounts a ORDER BY 1"""):
        acct, limit, posted, pending, held, captured, paid = row
        if posted < 0 or pending < 0 or posted + pending > limit:
            fail("account %s over its limit: limit %s posted %s pending %s" % (acct, limit, posted, pending))
        if pending != held:
            fail("account %s: pending %s, pending holds %s" % (acct, pending, held))
        if posted != captured - paid:
            fail("account %s: posted %s, captured %s - payments %s" % (acct, posted, captured, paid))
        OKS["accounts within limit, pending = holds, posted = captured - payments"] += 1

    # ------------------------------------------------------ verify, amcheck
    v = q("SELECT check_name, subject, detail FROM order_credit.verify()")
    for row in v[:20]:
        fail("verify(): %s" % (row,))
    idx = q("""SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'order_credit' AND am.amname = 'btree' ORDER BY 1""")
    for (name,) in idx:
        try:
            cur.execute("SELECT bt_index_check(%s::regclass, true)", (name,))
        except psycopg2.Error as e:
            fail("amcheck %s: %s" % (name, str(e).strip()))
    tabs = q("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE n.nspname = 'order_credit' AND c.relkind = 'r' ORDER BY 1")
    heap_bad = 0
    for (t,) in tabs:
        for row in q("SELECT * FROM verify_heapam(%s::regclass)", (t,)):
            heap_bad += 1
            fail("verify_heapam %s: %s" % (t, row))

    # --------------------------------------------------------------- figures
    unexpected = [r for r in recs if r["outcome"] == "unexpected"]
    for r in unexpected[:10]:
        fail("unexpected error in %s %s: %s %s" % (r["op"], r["info"], r.get("code"), r.get("msg")))
    if unexpected:
        fail("%d unexpected errors" % len(unexpected))
    if a.after:
        n_after = sum(1 for r in recs if r["outcome"] == "ack" and r["t"] > a.after)
        if n_after == 0:
            fail("no transaction acknowledged after the last restart")
        else:
            OKS["transactions acknowledged after the last restart"] = n_after
    gave_up = sum(1 for r in recs if r.get("gave_up"))
    retried = sum(r.get("retries", 0) for r in recs)
    d40 = sum(1 for r in recs if r.get("code") == "40P01") + sum(
        r.get("retried_codes", []).count("40P01") for r in recs)
    print("[%s] transactions by outcome: %s" % (a.label, dict(sorted(by_outcome.items()))))
    print("[%s] acknowledged by kind: %s" % (a.label, dict(sorted(acked.items()))))
    print("[%s] serialization retries: %d, transactions given up after 30 retries: %d (40P01 answered to clients: %d)"
          % (a.label, retried, gave_up, d40))
    for k, n in sorted(OKS.items()):
        print("[%s] ok: %s: %d" % (a.label, k, n))
    print("[%s] verify(): %d rows; amcheck: %d indexes with heapallindexed, verify_heapam: %d tables, %d problems"
          % (a.label, len(v), len(idx), len(tabs), heap_bad))
    with open(os.path.join(a.out, "figures.json"), "w") as f:
        json.dump({"outcomes": by_outcome, "acked": acked, "retries": retried, "gave_up": gave_up, "deadlocks_to_clients": d40,
                   "checks": OKS, "failures": len(FAIL)}, f, indent=1, sort_keys=True)
    for m in FAIL[:60]:
        print("[%s] FAIL: %s" % (a.label, m))
    if len(FAIL) > 60:
        print("[%s] ... %d failures in all" % (a.label, len(FAIL)))
    print("[%s] reconciliation: %s" % (a.label, "FAILED (%d)" % len(FAIL) if FAIL else "clean"))
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
