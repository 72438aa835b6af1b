#!/usr/bin/env python3
"""Summarises an `nvcc -Xptxas -v` log: one line per kernel with registers, stack, spills and static
shared memory, names demangled (c++filt) and stripped of r1's namespaces. Used by check-cuda.sh."""
import re
import subprocess
import sys

def demangle(name):
    try:
        out = subprocess.run(["c++filt", name], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return name
    out = re.sub(r"^void ", "", out)
    out = out.replace("r1::kernels::cuda::", "").replace("(anonymous namespace)::", "")
    depth = 0
    for i, ch in enumerate(out):  # drop the parameter list: the first '(' outside template brackets
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "(" and depth == 0:
            return out[:i]
    return out

kernels, current = [], None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"Compiling entry function '([^']+)'", line)
    if m:
        current = {"name": demangle(m.group(1))}
        kernels.append(current)
        continue
    if current is None:
        continue
    m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
    if m:
        current.update(stack=m.group(1), spill=f"{m.group(2)}/{m.group(3)}")
    m = re.search(r"Used (\d+) registers", line)
    if m:
        current["regs"] = m.group(1)
        s = re.search(r"(\d+) bytes smem", line)
        current["smem"] = s.group(1) if s else "0"
for k in kernels:
    warn = "   <-- spills" if k.get("spill", "0/0") != "0/0" else ""
    print(f"       {k['name'][:78]:78s} regs {k.get('regs', '?'):>3s}  stack {k.get('stack', '?'):>4s}"
          f"  spill {k.get('spill', '?'):>7s}  smem {k.get('smem', '?'):>5s}{warn}")
