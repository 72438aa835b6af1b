"""Renders chat templates the way Hugging Face transformers' apply_chat_template does, for
tests/tokenizer/chat_metadata_test.cpp: a sandboxed Jinja2 environment with trim_blocks, lstrip_blocks and
the loopcontrols extension, raise_exception defined, and the tokenizer's special tokens (bos_token,
eos_token, unk_token, pad_token as tokenizer_config.json gives them; unset ones are not passed) next to
messages and add_generation_prompt.

Usage: python3 render_chat_template.py CASES.json OUT.json
CASES.json: {"cases": [{"dir": TOKENIZER_DIR, "messages": [...], "add_generation_prompt": bool}, ...]}
OUT.json:   {"results": [{"text": "..."} or {"error": "..."}, ...]} in the same order.
Exits 2 when jinja2 is missing (the test then skips)."""
import json
import sys

try:
    from jinja2.exceptions import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    sys.exit(2)


def raise_exception(message):
    raise TemplateError(message)


def special_tokens(config):
    tokens = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if value is not None:
            tokens[key] = value
    return tokens


def render(case, compiled):
    directory = case["dir"]
    if directory not in compiled:
        with open(directory + "/tokenizer_config.json", encoding="utf-8") as f:
            config = json.load(f)
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        env.globals["raise_exception"] = raise_exception
        compiled[directory] = (env.from_string(config["chat_template"]), special_tokens(config))
    template, tokens = compiled[directory]
    try:
        text = template.render(messages=case["messages"], add_generation_prompt=case["add_generation_prompt"], **tokens)
        return {"text": text}
    except TemplateError as e:
        return {"error": str(e)}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    compiled = {}
    results = [render(case, compiled) for case in cases]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": results}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
