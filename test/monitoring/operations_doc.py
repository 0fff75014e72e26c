#!/usr/bin/python3
"""Runs every recipe of docs/operations.md and compares its output with the
output the doc shows.

A recipe is a ```sql block; the ```text block right after it is its output
as psql prints it. The blocks run in document order, each as one psql call.
Compared: the header line (column names) and the row count line, i.e. the
shape; values (times, pids) differ from run to run.

    operations_doc.py DOC DB            check
    operations_doc.py --update DOC DB   write the real output into DOC
"""
import re
import subprocess
import sys

FENCE = re.compile(r"```sql\n(.*?)```\n(\n*```text\n(.*?)```\n)?", re.S)


def run(db, sql):
    p = subprocess.run(["psql", "-X", "-P", "pager=off", "-v", "ON_ERROR_STOP=1", "-d", db],
                       input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"recipe failed:\n{sql}\n{p.stderr}")
    return "\n".join(line.rstrip() for line in p.stdout.rstrip("\n").split("\n")) + "\n"


def shape(out):
    lines = [line for line in out.split("\n") if line.strip()]
    rows = [line for line in lines if re.fullmatch(r"\(\d+ rows?\)", line)]
    return (re.sub(r"\s+", " ", lines[0]).strip() if lines else "", rows[-1] if rows else "")


def main():
    args = sys.argv[1:]
    update = args[:1] == ["--update"]
    if update:
        args = args[1:]
    doc, db = args
    text = open(doc).read()
    failures = 0
    recipes = 0
    pieces = []
    pos = 0
    for m in FENCE.finditer(text):
        sql, shown = m.group(1), m.group(3)
        out = run(db, sql)
        recipes += 1
        title = sql.strip().split("\n")[0][:70]
        if update:
            pieces.append(text[pos:m.start()])
            pieces.append(f"```sql\n{sql}```\n\n```text\n{out}```\n")
            pos = m.end()
        elif shown is None:
            print(f"FAIL: recipe without output block: {title}")
            failures += 1
        elif shape(out) != shape(shown):
            print(f"FAIL: {title}\n  doc:    {shape(shown)}\n  actual: {shape(out)}\n{out}")
            failures += 1
        else:
            print(f"ok:   {title}  {shape(out)[1]}")
    if update:
        pieces.append(text[pos:])
        open(doc, "w").write("".join(pieces))
        print(f"{doc}: output of {recipes} recipes written")
    if recipes == 0:
        print("FAIL: no recipe found")
        failures += 1
    print(f"{recipes} recipes, {failures} failures")
    sys.exit(1 if failures else 0)


main()
