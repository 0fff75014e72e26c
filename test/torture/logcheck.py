#!/usr/bin/python3
# Server-log check of one torture mode (test/torture/torture.sh): the part of
# the log the mode wrote, from byte OFFSET on (log_line_prefix carries %e,
# the SQLSTATE).
#
#   logcheck.py LOG OFFSET LABEL ALLOW_EXPIRE_DEADLOCK KILLED_PIDS...
#
# Fails on: XX000 or "internal error", TRAP (a failed assertion), PANIC, a
# process terminated by a signal other than the SIGKILLs the suite sent
# (KILLED_PIDS), and 40P01. With ALLOW_EXPIRE_DEADLOCK = 1, a deadlock whose
# report names expire_due or the sweeper is counted and reported but does
# not fail (the known expire_due defect of the SQL path); any other deadlock
# still fails.
import re
import sys

log, offset, label, allow = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
killed = set(sys.argv[5:])
with open(log, "rb") as f:
    f.seek(offset)
    text = f.read().decode("utf-8", "replace")

# one entry per log record: a line with the prefix and its continuation lines
entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[\d+\] )", text)
fails, deadlocks, expire_deadlocks, signals = [], 0, 0, 0
pid_re = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S*) ?")
pids = [(pid_re.match(e).group(1) if pid_re.match(e) else None) for e in entries]
# the sweepers' pids, from their start messages (the whole log: a sweeper
# may have started before OFFSET)
with open(log, "rb") as f:
    sweepers = set(re.findall(r"\[(\d+)\] \S+ LOG:  order_credit sweeper started", f.read().decode("utf-8", "replace")))
for i, e in enumerate(entries):
    m = pid_re.match(e)
    code = m.group(2) if m else ""
    if code == "XX000" or "internal error" in e.lower():
        fails.append("XX000/internal error: " + e[:400])
    if "TRAP:" in e or " PANIC: " in e:
        fails.append("assertion/PANIC: " + e[:400])
    s = re.search(r"\(PID (\d+)\) was terminated by signal (\d+)", e)
    if s:
        signals += 1
        if s.group(2) != "9" or s.group(1) not in killed:
            fails.append("a process died by a signal the suite did not send: " + e[:300])
    if code == "40P01" and "deadlock detected" in e:
        deadlocks += 1
        # the records that follow from the same process (DETAIL, HINT,
        # CONTEXT, STATEMENT) name the processes and their queries; the
        # victim may be the sweeper itself
        j = i + 1
        while j < len(entries) and j < i + 6 and pids[j] == pids[i]:
            j += 1
        detail = "\n".join(entries[i:j])
        others = set(re.findall(r"Process (\d+) waits", detail))
        if "expire_due" in detail or (others | {pids[i]}) & sweepers:
            expire_deadlocks += 1
            if not allow:
                fails.append("40P01 (expire_due): " + detail[:800])
        else:
            fails.append("40P01 (not expire_due): " + detail[:800])
print("[%s] server log: %d deadlocks (40P01), %d of them with expire_due/the sweeper%s; %d processes ended by the suite's SIGKILL"
      % (label, deadlocks, expire_deadlocks, " (tolerated: OC_TORTURE_ALLOW_EXPIRE_DEADLOCK)" if allow and expire_deadlocks else "",
         signals))
for f in fails[:10]:
    print("[%s] FAIL: %s" % (label, f))
print("[%s] server log: %s" % (label, "FAILED" if fails else "clean"))
sys.exit(1 if fails else 0)
