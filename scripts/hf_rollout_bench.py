#!/usr/bin/env python3
"""HF transformers' `generate` on the shapes and sizes of `r1 bench rollout`, for the rollout comparison of the
GPU session (scripts/gpu-session.sh): random weights from the same config files (recipes/models/*.json, with
the same CONFIG.json:LAYERS override), bf16 on the GPU, batch 64, prompt 128 random ids, exactly 256 new
tokens (min_new_tokens = max_new_tokens, so EOS cannot end a row early), sampling at temperature 1 with no
top-k / top-p, default attention implementation. Timed like r1's: one untimed warm-up call, then `--repeat`
calls of a 1-token generate (prefill) and of the full generate, with the device synchronised around each;
tokens/s = batch x new / total, decode = total - prefill.

  python3 scripts/hf_rollout_bench.py [--model recipes/models/qwen2.5-0.5b.json]
        [--model recipes/models/deepseek-v2-lite.json:8] [--batch 64] [--prompt-len 128] [--new-tokens 256]
        [--repeat 1] [--warmup-tokens 8] [--device cuda] [--dtype bfloat16] [--json OUT]
        [--r1-json R1.json]   also print r1's figures (from `r1 bench rollout --json`) beside HF's, with the
                              ratio and the issue's target (r1 >= 20x HF)

The defaults of --model match `r1 bench rollout`. Needs torch and transformers (the GPU image has both); the
argument handling and the tables are plain Python (tested in tests/scripts/test_hf_scripts.py).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = ["recipes/models/qwen2.5-0.5b.json", "recipes/models/deepseek-v2-lite.json:8"]
TARGET_RATIO = 20.0  # the target: r1 rollout tokens/s >= 20x HF generate's


def parse_model_spec(spec):
    """'path.json' or 'path.json:8' -> (path, layers or 0), as `r1 bench rollout --model` reads it."""
    head, sep, tail = spec.rpartition(":")
    if not sep or "/" in tail:
        return spec, 0
    if not tail.isdigit() or int(tail) <= 0:
        raise ValueError(f"--model '{spec}': expected CONFIG.json or CONFIG.json:LAYERS with LAYERS a positive integer")
    return head, int(tail)


def load_config_dict(path, layers):
    """The config file as a dict, with num_hidden_layers = layers (0: as written) and per-layer lists
    (layer_types, mlp_layer_types) cut or extended with their last entry, as r1 does."""
    with open(path) as f:
        config = json.load(f)
    if layers > 0:
        config["num_hidden_layers"] = layers
        for key in ("layer_types", "mlp_layer_types"):
            lst = config.get(key)
            if isinstance(lst, list) and lst:
                config[key] = (lst + [lst[-1]] * layers)[:layers]
    return config


def model_name(spec):
    """'recipes/models/qwen2.5-0.5b.json' -> 'qwen2.5-0.5b'; '.../qwen2_tiny/config.json:2' -> 'qwen2_tiny:2' (as r1
    names them, so the two reports pair up)."""
    path, layers = parse_model_spec(spec)
    base = os.path.basename(path)
    if base == "config.json" and os.path.dirname(path):
        base = os.path.basename(os.path.dirname(path))
    if base.endswith(".json") and len(base) > 5:
        base = base[:-5]
    return base + (f":{layers}" if layers else "")


def summarize(name, layers, params, init_s, prefill, total, batch, new_tokens):
    """One result row (the keys of `r1 bench rollout --json`)."""
    prefill_s, total_s = statistics.median(prefill), statistics.median(total)
    decode_s = total_s - prefill_s
    return {"model": name, "layers": layers, "parameters": params, "generated_tokens": batch * new_tokens,
            "init_s": init_s, "prefill_s": prefill_s, "decode_s": decode_s, "total_s": total_s,
            "tokens_per_s": batch * new_tokens / total_s,
            "decode_tokens_per_s": batch * (new_tokens - 1) / decode_s if new_tokens > 1 and decode_s > 0 else 0.0}


def format_table(report):
    lines = [f"HF transformers {report['engine_version']} generate on {report['device']}, {report['dtype']}: batch "
             f"{report['batch']}, prompt {report['prompt_len']}, new {report['new_tokens']} (min_new_tokens = "
             f"max_new_tokens), median of {report['repeat']}", "",
             "| model | layers | parameters | init s | prefill s | decode s | total s | tokens/s | decode tokens/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['model']} | {r['layers']} | {r['parameters'] / 1e6:.1f}M | {r['init_s']:.2f} | "
                     f"{r['prefill_s']:.3f} | {r['decode_s']:.3f} | {r['total_s']:.3f} | {r['tokens_per_s']:.0f} | "
                     f"{r['decode_tokens_per_s']:.0f} |")
    return "\n".join(lines)


def format_comparison(hf, r1):
    """r1 and HF side by side per model (matched by name; r1's fastest engine variant), with r1/HF and the 20x
    target."""
    by_name = {}
    for r in r1.get("results", []):
        best = by_name.get(r["model"])
        if best is None or r["tokens_per_s"] > best["tokens_per_s"]:
            by_name[r["model"]] = r
    lines = [f"| model | r1 variant | r1 tokens/s | HF tokens/s | r1 / HF | target >= {TARGET_RATIO:g}x | r1 prefill s "
             "| HF prefill s | r1 decode s | HF decode s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for h in hf.get("results", []):
        m = by_name.get(h["model"])
        if m is None:
            lines.append(f"| {h['model']} | — | — | {h['tokens_per_s']:.0f} | — | no r1 figure | — | "
                         f"{h['prefill_s']:.3f} | — | {h['decode_s']:.3f} |")
            continue
        ratio = m["tokens_per_s"] / h["tokens_per_s"] if h["tokens_per_s"] > 0 else float("inf")
        lines.append(f"| {h['model']} | {m.get('variant', '')} | {m['tokens_per_s']:.0f} | {h['tokens_per_s']:.0f} | "
                     f"{ratio:.1f}x | "
                     f"{'met' if ratio >= TARGET_RATIO else 'not met'} | {m['prefill_s']:.3f} | {h['prefill_s']:.3f} | "
                     f"{m['decode_s']:.3f} | {h['decode_s']:.3f} |")
    return "\n".join(lines)


def bench_model(spec, args, torch, transformers):
    path, layers = parse_model_spec(spec)
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(ROOT, path)
    config_dict = load_config_dict(path, layers)
    with tempfile.TemporaryDirectory() as tmp:  # load the config the way a checkpoint's config.json is loaded
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config_dict, f)
        config = transformers.AutoConfig.from_pretrained(tmp)
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[args.dtype]
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    with torch.device(args.device):  # initialise on the device: a CPU init of billions of weights takes minutes
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    if next(model.parameters()).dtype != dtype:  # a transformers that ignored `dtype` (older ones: torch_dtype)
        model.to(dtype)
    model.eval()
    sync(torch, args.device)
    init_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(args.seed + 1)
    prompts = torch.randint(0, config.vocab_size, (args.batch, args.prompt_len), generator=gen).to(args.device)
    mask = torch.ones_like(prompts)
    print(f"hf_rollout_bench: {model_name(spec)} ({type(model).__name__}, {config.num_hidden_layers} layers, "
          f"{params / 1e6:.1f}M parameters, attention {model.config._attn_implementation})", file=sys.stderr, flush=True)

    def generate(n):
        sync(torch, args.device)
        t = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=prompts, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0,
                                 top_p=1.0, max_new_tokens=n, min_new_tokens=n, pad_token_id=0)
        sync(torch, args.device)
        elapsed = time.perf_counter() - t
        if out.shape[1] != args.prompt_len + n:
            raise RuntimeError(f"{model_name(spec)}: generate returned {out.shape[1] - args.prompt_len} new tokens, "
                               f"expected {n}")
        return elapsed

    if args.warmup_tokens > 0:
        generate(args.warmup_tokens)
    prefill, total = [], []
    for _ in range(args.repeat):
        prefill.append(generate(1))
        total.append(generate(args.new_tokens))
    result = summarize(model_name(spec), config.num_hidden_layers, params, init_s, prefill, total, args.batch,
                       args.new_tokens)
    del model
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def sync(torch, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def parse_args(argv):
    p = argparse.ArgumentParser(description="HF transformers generate on the shapes of `r1 bench rollout`")
    p.add_argument("--model", action="append", default=None,
                   help="HF config.json, optionally :LAYERS (repeatable; default: the two shapes of r1 bench rollout)")
    p.add_argument("--batch", type=int, default=64, help="rows generated together (default 64)")
    p.add_argument("--prompt-len", type=int, default=128, help="prompt tokens per row (default 128)")
    p.add_argument("--new-tokens", type=int, default=256, help="new tokens per row (default 256)")
    p.add_argument("--repeat", type=int, default=1, help="timed calls of each kind; median reported (default 1)")
    p.add_argument("--warmup-tokens", type=int, default=8, help="new tokens of the untimed warm-up (default 8)")
    p.add_argument("--device", default="cuda", help="torch device (default cuda)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"], help="weights (default bfloat16)")
    p.add_argument("--seed", type=int, default=1, help="seed of weights, prompts and sampling (default 1)")
    p.add_argument("--json", default="", help="also write the results as JSON to this file")
    p.add_argument("--r1-json", default="", help="`r1 bench rollout --json` output to print beside HF's figures")
    args = p.parse_args(argv)
    args.model = args.model or list(DEFAULT_MODELS)
    for spec in args.model:
        parse_model_spec(spec)  # fail on a bad spec before any model is built
    if min(args.batch, args.prompt_len, args.new_tokens, args.repeat) <= 0 or args.warmup_tokens < 0:
        p.error("--batch, --prompt-len, --new-tokens and --repeat must be positive, --warmup-tokens >= 0")
    return args


def main(argv):
    try:
        args = parse_args(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import torch
    import transformers

    report = {"engine": "hf", "engine_version": transformers.__version__, "torch": torch.__version__,
              "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device,
              "dtype": args.dtype, "batch": args.batch, "prompt_len": args.prompt_len, "new_tokens": args.new_tokens,
              "repeat": args.repeat, "results": []}
    for spec in args.model:
        report["results"].append(bench_model(spec, args, torch, transformers))
    print(format_table(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.r1_json:
        with open(args.r1_json) as f:
            r1 = json.load(f)
        print("\n" + format_comparison(report, r1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
