#!/usr/bin/env python3
"""Test helper for the external reward: misbehaves on purpose, one behaviour per completion keyword.

  "exit"    the process exits without answering (the host must restart it and retry)
  "exit-once" exits only when no marker file exists yet, creating it (so the retry succeeds)
  "sleep"   never answers in time (the host must time out, kill, restart)
  "noise"   prints non-JSON lines before the answer (ignored by the host)
  "badid"   answers with the wrong id (a protocol error)
  "report"  answers with {"error": ...}
otherwise the score is the number of requests this process has served (so restarts are visible).
"""
import json
import os
import sys
import time

served = 0
for line in sys.stdin:
    request = json.loads(line)
    served += 1
    text = request["completion"]
    if text == "exit":
        sys.exit(3)
    if text.startswith("exit-once:"):
        marker = text.split(":", 1)[1]
        if not os.path.exists(marker):
            open(marker, "w").close()
            sys.exit(4)
    if text == "sleep":
        time.sleep(30)
    if text == "noise":
        print("debug: thinking about it", flush=True)
        print("", flush=True)
    rid = request["id"] + (1 if text == "badid" else 0)
    if text == "report":
        response = {"id": rid, "error": "cannot score this"}
    else:
        response = {"id": rid, "score": float(served), "components": {"served": served}, "reason": "ok"}
    sys.stdout.write(json.dumps(response) + "\n")
    sys.stdout.flush()
