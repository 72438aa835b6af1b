#!/usr/bin/env python3
"""One-line notes for scripts/gpu-session.sh's summary, read from the files its steps write:
  session_notes.py rollout rollout_r1.json       r1 bench rollout --json: tokens/s and the prefill/decode split
  session_notes.py hf-rollout rollout_hf.json    scripts/hf_rollout_bench.py --json: HF tokens/s
  session_notes.py grpo metrics.jsonl [STAGE]    an r1 run's metrics: time per step (first, then the median of
                                                 the others: the first step carries the warm-up) and its split
Prints one line; exit status 1 with a message when the file is missing or holds no result."""
import json
import statistics
import sys


def rollout(path):
    r = json.load(open(path))
    return "; ".join(f"{x['model']} {x.get('variant', '')}: {x['tokens_per_s']:.0f} tok/s (prefill "
                     f"{x['prefill_s']:.3f} s, decode {x['decode_s']:.3f} s)" for x in r["results"])


def hf_rollout(path):
    r = json.load(open(path))
    return f"HF {r['engine_version']}: " + "; ".join(f"{x['model']}: {x['tokens_per_s']:.0f} tok/s" for x in r["results"])


def grpo(path, stage="rl"):
    rows = [r for r in map(json.loads, open(path)) if r.get("stage") == stage and "step_s" in r]
    if not rows:
        raise ValueError(f"{path}: no '{stage}' step lines")
    later = rows[1:] or rows

    def med(key):
        return statistics.median(r.get(key, 0.0) for r in later)

    return (f"{len(rows)} steps: first {rows[0]['step_s']:.2f} s, then median {med('step_s'):.2f} s/step (rollout "
            f"{med('time_rollout_s'):.2f}, reference {med('time_reference_s'):.2f}, update {med('time_update_s'):.2f} s)")


def main(argv):
    kinds = {"rollout": rollout, "hf-rollout": hf_rollout, "grpo": grpo}
    if len(argv) < 2 or argv[0] not in kinds:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(kinds[argv[0]](*argv[1:]))
    except (OSError, ValueError, KeyError) as e:
        print(f"session_notes {argv[0]}: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
