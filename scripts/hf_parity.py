#!/usr/bin/env python3
"""Does HF transformers load what r1 saves, and compute the same thing? Two halves, run on two machines:

  prepare (here, on the CPU machine, with the r1 binary; no torch needed):
      python3 scripts/hf_parity.py prepare --r1 build/cli/r1 --out build-gpu-deps/hf_parity
    runs recipes/gpu_hf_parity.json (four tiny models of the Qwen2, Llama, DeepSeek-V3 and DeepSeek-V2
    architectures, each trained a few steps by r1 and saved by r1), and for each writes CASE/model/ (the
    r1-saved HF directory), CASE/input.safetensors (input_ids + attention_mask [2, 12], row 1 left-padded),
    CASE/logits.safetensors (`r1 logits`: fp32 logits [2, 12, V]), CASE/greedy.safetensors (`r1 generate
    --greedy`: sequences, new_tokens) and CASE/r1_reference.json (what is where, the r1 commit).

  verify (anywhere): reads the prepared cases back without torch (the CPU rehearsal of the GPU session).

  check (on the GPU machine, where torch and transformers are):
      python3 scripts/hf_parity.py check build-gpu-deps/hf_parity/* [--device cuda] [--json OUT]
    loads each CASE/model with AutoModelForCausalLM.from_pretrained in fp32 (eager attention, TF32 off),
    reports missing / unexpected tensors, compares HF's logits with r1's on the real (unpadded) positions
    (max |diff| and ||hf - r1|| / ||r1||, pass below --tol = 1e-4, ARCHITECTURE.md's parity target) and HF's
    greedy continuation with r1's (identical ids over each row's r1 length), and prints a table.

Safetensors files are read and written by the small pure-Python codec below (F32 / I64 / BF16 / I32), so
both halves and the unit tests (tests/scripts/test_hf_scripts.py) run without numpy or torch. Exit status
of check: 0 when every case passes, 1 otherwise.
"""
import argparse
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["qwen2", "llama", "deepseek_v3", "deepseek_v2"]  # stage names in recipes/gpu_hf_parity.json
BATCH, PROMPT_LEN, PAD_LEFT, NEW_TOKENS = 2, 12, 3, 8

# ---- safetensors, pure Python ----

_FORMATS = {"F32": ("f", 4), "I64": ("q", 8), "I32": ("i", 4), "F64": ("d", 8)}


def st_write(path, tensors):
    """tensors: {name: (dtype, shape, flat list)} with dtype F32 / I64 / I32 / F64; little-endian, row-major."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, values) in tensors.items():
        fmt, size = _FORMATS[dtype]
        count = math.prod(shape)
        if len(values) != count:
            raise ValueError(f"st_write: {name}: {len(values)} values for shape {shape}")
        blob = struct.pack(f"<{count}{fmt}", *values)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format's recommended 8-byte alignment of the data
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def st_read(path):
    """{name: (dtype, shape, flat list)}; BF16 values are widened to Python floats. Errors name the file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise ValueError(f"{path}: bad safetensors header: {e}") from None
    base, out = 8 + n, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        raw = data[base + begin:base + end]
        count = math.prod(shape)
        if dtype == "BF16":
            halves = struct.unpack(f"<{count}H", raw)
            values = list(struct.unpack(f"<{count}f", struct.pack(f"<{count}I", *[h << 16 for h in halves])))
        elif dtype in _FORMATS:
            fmt, size = _FORMATS[dtype]
            if len(raw) != count * size:
                raise ValueError(f"{path}: tensor '{name}': {len(raw)} bytes for shape {shape} {dtype}")
            values = list(struct.unpack(f"<{count}{fmt}", raw))
        else:
            raise ValueError(f"{path}: tensor '{name}': dtype {dtype} not supported by this reader")
        out[name] = (dtype, shape, values)
    return out


# ---- the comparison (plain lists, so it is testable without torch) ----

def valid_positions(mask, batch, length):
    """Flat indices (b * length + t) of the real tokens of a [batch, length] 0/1 mask."""
    return [b * length + t for b in range(batch) for t in range(length) if mask[b * length + t]]


def compare_logits(hf, r1, positions, vocab):
    """max |hf - r1| and ||hf - r1|| / ||r1|| over the given token positions of [*, vocab] logits."""
    diff2 = ref2 = max_abs = 0.0
    for p in positions:
        for v in range(p * vocab, (p + 1) * vocab):
            d = hf[v] - r1[v]
            if math.isnan(d):
                return math.inf, math.inf
            diff2 += d * d
            ref2 += r1[v] * r1[v]
            max_abs = max(max_abs, abs(d))
    return max_abs, math.sqrt(diff2) / max(math.sqrt(ref2), 1e-30)


def compare_greedy(r1_sequences, r1_new, hf_sequences, prompt_len):
    """First disagreement between r1's and HF's generated ids, as (row, step) — None when identical over every
    row's r1 length. Sequences are lists of rows (prompt followed by the new ids)."""
    for b, n in enumerate(r1_new):
        mine = r1_sequences[b][prompt_len:prompt_len + n]
        theirs = hf_sequences[b][prompt_len:prompt_len + n]
        for s in range(n):
            if s >= len(theirs) or mine[s] != theirs[s]:
                return b, s
    return None


def rows(values, batch):
    width = len(values) // batch
    return [values[b * width:(b + 1) * width] for b in range(batch)]


def make_inputs(vocab, seed=7):
    """input_ids and attention_mask [BATCH, PROMPT_LEN], row 1 left-padded by PAD_LEFT (pad id 0), byte ids."""
    rng = random.Random(seed)
    ids, mask = [], []
    for b in range(BATCH):
        pad = PAD_LEFT if b == 1 else 0
        for t in range(PROMPT_LEN):
            real = t >= pad
            ids.append(rng.randrange(min(vocab, 256)) if real else 0)
            mask.append(1 if real else 0)
    return ids, mask


def format_table(results, tol):
    lines = [f"| case | architecture | HF load: missing / unexpected tensors | logits max abs | logits rel (< {tol:g}) "
             "| greedy ids | result |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if r.get("error"):
            lines.append(f"| {r['case']} | {r.get('architecture', '?')} | — | — | — | — | ERROR: {r['error']} |")
            continue
        greedy = "identical" if r["greedy_mismatch"] is None else \
            "differ at row {} step {}".format(*r["greedy_mismatch"])
        lines.append(f"| {r['case']} | {r['architecture']} | {r['missing']} / {r['unexpected']} | "
                     f"{r['max_abs']:.3g} | {r['rel']:.3g} | {greedy} | {'PASS' if r['pass'] else 'FAIL'} |")
    return "\n".join(lines)


# ---- prepare: r1 side, on the CPU machine ----

def run(cmd):
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def prepare(args):
    r1 = os.path.abspath(args.r1)
    if not os.access(r1, os.X_OK):
        sys.exit(f"hf_parity prepare: {r1} is not an executable r1 binary (build it: cmake --build build --target r1)")
    out = os.path.abspath(args.out)
    run_dir = os.path.join(out, "run")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    run([r1, "run", os.path.join(ROOT, "recipes", "gpu_hf_parity.json"), "--output", run_dir, "--quiet"])
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    for case in CASES:
        case_dir = os.path.join(out, case)
        model_dir = os.path.join(case_dir, "model")
        shutil.copytree(os.path.join(run_dir, "stages", case, "final"), model_dir)
        config = json.load(open(os.path.join(model_dir, "config.json")))
        ids, mask = make_inputs(config["vocab_size"])
        shape = [BATCH, PROMPT_LEN]
        st_write(os.path.join(case_dir, "input.safetensors"), {"input_ids": ("I64", shape, ids),
                                                               "attention_mask": ("I64", shape, mask)})
        run([r1, "logits", "--model", model_dir, "--input", os.path.join(case_dir, "input.safetensors"),
             "--output", os.path.join(case_dir, "logits.safetensors")])
        run([r1, "generate", "--model", model_dir, "--input", os.path.join(case_dir, "input.safetensors"), "--greedy",
             "--max-new-tokens", str(NEW_TOKENS), "--output", os.path.join(case_dir, "greedy.safetensors")])
        manifest = {"case": case, "architecture": config["architectures"][0], "model": "model",
                    "input": "input.safetensors", "logits": "logits.safetensors", "greedy": "greedy.safetensors",
                    "max_new_tokens": NEW_TOKENS, "r1_commit": commit, "r1_device": "cpu", "dtype": "float32"}
        with open(os.path.join(case_dir, "r1_reference.json"), "w") as f:
            json.dump(manifest, f, indent=2)
    if not args.keep_run:
        shutil.rmtree(run_dir)
    print(f"hf_parity prepare: {len(CASES)} cases in {out}")
    return 0


def verify(args):
    """Reads every prepared case back (manifest, model config, the three safetensors files) without torch:
    the CPU rehearsal of the GPU session, and a check that gpu-prep.sh left something usable."""
    names = []
    for case_dir in args.cases:
        manifest = json.load(open(os.path.join(case_dir, "r1_reference.json")))
        inputs = st_read(os.path.join(case_dir, manifest["input"]))
        logits = st_read(os.path.join(case_dir, manifest["logits"]))["logits"]
        greedy = st_read(os.path.join(case_dir, manifest["greedy"]))
        config = json.load(open(os.path.join(case_dir, manifest["model"], "config.json")))
        batch, length = inputs["input_ids"][1]
        if logits[1] != [batch, length, config["vocab_size"]] or greedy["sequences"][1][0] != batch:
            raise ValueError(f"{case_dir}: logits {logits[1]} / sequences {greedy['sequences'][1]} do not match the "
                             f"inputs [{batch}, {length}] and vocab {config['vocab_size']}")
        names.append(manifest["case"])
    print(f"{len(names)} prepared cases read back ({', '.join(names)})")
    return 0


# ---- check: HF side, on the GPU machine ----

def check_case(case_dir, device, tol):
    import torch
    from transformers import AutoModelForCausalLM

    manifest = json.load(open(os.path.join(case_dir, "r1_reference.json")))
    result = {"case": manifest["case"], "architecture": manifest["architecture"]}
    inputs = st_read(os.path.join(case_dir, manifest["input"]))
    _, shape, ids = inputs["input_ids"]
    mask = inputs["attention_mask"][2]
    batch, length = shape
    model, info = AutoModelForCausalLM.from_pretrained(os.path.join(case_dir, manifest["model"]), dtype=torch.float32,
                                                       attn_implementation="eager", output_loading_info=True)
    model.to(device=device, dtype=torch.float32).eval()  # fp32 whatever the loader's default dtype
    result["missing"] = len(info.get("missing_keys", []))
    result["unexpected"] = len(info.get("unexpected_keys", []))
    result["missing_keys"] = sorted(info.get("missing_keys", []))[:10]
    result["unexpected_keys"] = sorted(info.get("unexpected_keys", []))[:10]
    ids_t = torch.tensor(ids, dtype=torch.long, device=device).view(batch, length)
    mask_t = torch.tensor(mask, dtype=torch.long, device=device).view(batch, length)
    with torch.no_grad():
        hf_logits = model(input_ids=ids_t, attention_mask=mask_t).logits.float().cpu()  # [B, T, V]
    _, lshape, r1_logits = st_read(os.path.join(case_dir, manifest["logits"]))["logits"]
    vocab = lshape[2]
    if list(hf_logits.shape) != lshape:
        raise ValueError(f"HF logits {list(hf_logits.shape)} vs r1 logits {lshape}")
    result["max_abs"], result["rel"] = compare_logits(hf_logits.reshape(-1).tolist(), r1_logits,
                                                      valid_positions(mask, batch, length), vocab)
    greedy = st_read(os.path.join(case_dir, manifest["greedy"]))
    r1_new = greedy["new_tokens"][2]
    r1_seq = rows(greedy["sequences"][2], batch)
    with torch.no_grad():
        hf_out = model.generate(input_ids=ids_t, attention_mask=mask_t, do_sample=False,
                                max_new_tokens=manifest["max_new_tokens"], pad_token_id=0)
    result["greedy_mismatch"] = compare_greedy(r1_seq, r1_new, hf_out.cpu().tolist(), length)
    result["pass"] = result["missing"] == 0 and result["rel"] < tol and result["greedy_mismatch"] is None
    return result


def check(args):
    import torch
    import transformers

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    # fp32 means fp32: no TF32 in matmuls or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"hf_parity check: transformers {transformers.__version__}, torch {torch.__version__}, device {device}",
          flush=True)
    results = []
    for case_dir in args.cases:
        try:
            results.append(check_case(case_dir, device, args.tol))
        except Exception as e:  # one broken case must not hide the others
            results.append({"case": os.path.basename(case_dir.rstrip("/")), "error": f"{type(e).__name__}: {e}"[:300],
                            "pass": False})
    print(format_table(results, args.tol))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "device": device,
                       "tol": args.tol, "results": results}, f, indent=2)
    return 0 if results and all(r["pass"] for r in results) else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description="r1-saved checkpoints vs HF transformers (see the module docstring)")
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="r1 side: train, save and score the tiny cases (CPU machine)")
    pp.add_argument("--r1", default=os.path.join(ROOT, "build", "cli", "r1"), help="the r1 binary (default build/cli/r1)")
    pp.add_argument("--out", default=os.path.join(ROOT, "build-gpu-deps", "hf_parity"),
                    help="output folder (default build-gpu-deps/hf_parity; replaced)")
    pp.add_argument("--keep-run", action="store_true", help="keep the recipe's run directory (out/run)")
    pv = sub.add_parser("verify", help="read the prepared cases back without torch (CPU rehearsal)")
    pv.add_argument("cases", nargs="+", help="case folders written by prepare")
    pc = sub.add_parser("check", help="HF side: load each case and compare (GPU machine)")
    pc.add_argument("cases", nargs="+", help="case folders written by prepare")
    pc.add_argument("--device", default="", help="torch device (default: cuda when available, else cpu)")
    pc.add_argument("--tol", type=float, default=1e-4, help="relative logits error bound (default 1e-4)")
    pc.add_argument("--json", default="", help="also write the results as JSON to this file")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    return {"prepare": prepare, "verify": verify, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
