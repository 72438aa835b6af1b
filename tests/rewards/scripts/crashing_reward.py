#!/usr/bin/env python3
"""Test reward for r1's external-process protocol: scores len(completion) but crashes with a Python
traceback (an uncaught ZeroDivisionError, the process exits) when the completion is "crash". Used by
tests/rewards/cli_test.cpp to check that the error names the command, the input line and the row id, and
shows the child's stderr once."""
import json
import sys

for line in sys.stdin:
    request = json.loads(line)
    if request["completion"] == "crash":
        print("about to divide", file=sys.stderr)
        1 / 0
    sys.stdout.write(json.dumps({"id": request["id"], "score": float(len(request["completion"]))}) + "\n")
    sys.stdout.flush()
