#!/usr/bin/env python3
"""An example external-process reward for r1 (the "external" reward, rewards/external_reward.h).

r1 starts this script once, keeps it alive, and sends one JSON line per sample on stdin:
    {"id": 7, "prompt": "...", "completion": "...", "row": {...}, "completion_tokens": 123, "truncated": false}
and reads one JSON line back on stdout:
    {"id": 7, "score": 0.5, "components": {"hits": 1}, "reason": "1/2 keywords"}
(or {"id": 7, "error": "message"}). Logs go to stderr; flush stdout after every line.

This reward scores the fraction of the row's "keywords" (a list of strings) that appear in the
completion, case-insensitively. Use it as
    r1 reward score --reward '{"name": "external", "options": {"command": ["python3", "rewards/examples/keyword_reward.py"]}}' --input in.jsonl
Only the standard library is used.
"""
import json
import sys


def score(request):
    row = request.get("row") or {}
    keywords = row.get("keywords")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValueError('the row needs "keywords": a list of strings')
    text = request["completion"].lower()
    hits = sum(1 for k in keywords if k.lower() in text)
    value = hits / len(keywords) if keywords else 0.0
    return {"score": value, "components": {"hits": hits}, "reason": f"{hits}/{len(keywords)} keywords"}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            response = score(request)
        except Exception as exc:  # reported to r1, which raises it with the line's context
            response = {"error": str(exc)}
        response["id"] = request["id"]
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
