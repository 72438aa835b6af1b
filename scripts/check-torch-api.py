#!/usr/bin/env python3
"""Syntax-checks every C++ file of r1 against another LibTorch's headers (e.g. 2.6 or 2.14 from Debian's
trixie / sid libtorch-dev, unpacked by scripts/check-libtorch2.sh), so that an API removed or changed since
the CPU build's LibTorch 1.13 shows up on this machine instead of in the GPU session.

It reuses the CPU build's compile_commands.json (the flags, defines and include dirs of every translation
unit), swaps Debian's 1.13 include dirs for the other LibTorch's, drops the 1.13 precompiled header in
favour of one made here from the same headers, defines R1_WITH_CUDA=1 everywhere (as -DR1_CUDA=ON does
through r1_kernels' public definition) and adds the CUDA-only sources (kernels/*_cuda.cpp). It compiles
nothing into objects: g++ -fsyntax-only, in parallel.

Usage: scripts/check-torch-api.py --torch-include DIR --std c++17|c++20 [--build build] [--jobs 2]
                                  [--out build-torch2/2.6] [--only REGEX]
Exit status: 0 when every file compiles, 1 otherwise (the first errors of each failing file are printed).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_TORCH_INCLUDE = "/usr/include/torch/csrc/api/include"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--torch-include", required=True, help="the other LibTorch's include root (holds ATen/, c10/, torch/)")
    p.add_argument("--std", default="c++17", choices=["c++17", "c++20"], help="language standard (default c++17)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="CPU build dir with compile_commands.json")
    p.add_argument("--cuda-include", default="/usr/local/cuda/include", help="CUDA headers (for the R1_WITH_CUDA code)")
    p.add_argument("--out", default=os.path.join(ROOT, "build-torch2", "check"), help="logs and the PCH go here")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel compilers (default: all cores)")
    p.add_argument("--only", default="", help="check only files whose path matches this regex")
    return p.parse_args(argv)


def rewrite(command, args, pch_header):
    """The compile command of one translation unit, pointed at the other LibTorch; None for non-C++ entries."""
    words = shlex.split(command)
    out, skip = [], False
    used_pch = False
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        if w in ("-o", "-c"):
            skip = True
            continue
        if w == "-include" and i + 1 < len(words) and words[i + 1].endswith("cmake_pch.hxx"):
            used_pch, skip = True, True
            continue
        if w in ("-Winvalid-pch", "-x") or w.startswith("-std=") or w == "c++-header":
            continue
        if w == OLD_TORCH_INCLUDE:
            out[-1:] = []  # drop the preceding -isystem too
            continue
        out.append(w)
    torch_inc = args.torch_include
    shim = os.path.join(args.out, "shim")
    extra = [f"-std={args.std}", "-fsyntax-only", "-DR1_WITH_CUDA=1",
             "-isystem", torch_inc, "-isystem", os.path.join(torch_inc, "torch/csrc/api/include"),
             "-isystem", args.cuda_include, "-isystem", shim]
    if used_pch:
        extra += ["-include", pch_header]
    return [out[0]] + extra + out[1:], used_pch


def main(argv):
    args = parse_args(argv)
    args.out, args.torch_include = os.path.abspath(args.out), os.path.abspath(args.torch_include)
    os.makedirs(os.path.join(args.out, "shim/c10/cuda/impl"), exist_ok=True)
    # The generated c10/cuda/impl/cuda_cmake_macros.h that a CPU LibTorch package lacks (as in check-cuda.sh).
    with open(os.path.join(args.out, "shim/c10/cuda/impl/cuda_cmake_macros.h"), "w") as f:
        f.write("#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n")
    cc_path = os.path.join(args.build, "compile_commands.json")
    if not os.path.exists(cc_path):
        sys.exit(f"check-torch-api: {cc_path} not found: configure the CPU build first (scripts/build.sh)")
    entries = json.load(open(cc_path))

    # Every TU that used the PCH gets <ATen/ATen.h> through a PCH built here with the same flags.
    pch_header = os.path.join(args.out, "aten_pch.h")
    with open(pch_header, "w") as f:
        f.write("#pragma once\n#include <ATen/ATen.h>\n")
    jobs, pch_cmd = [], None
    by_file = {}
    for e in entries:
        src = e["file"]
        if not src.endswith(".cpp") or "cmake_pch" in src:
            continue
        cmd, used_pch = rewrite(e["command"], args, pch_header)
        by_file[src] = cmd
        if used_pch and pch_cmd is None:
            pch_cmd = [w for w in cmd if w not in ("-fsyntax-only",)]
            pch_cmd = pch_cmd[:pch_cmd.index("-include")] + pch_cmd[pch_cmd.index("-include") + 2:]
    # The CUDA-only dispatch files are not in the CPU build: compile them with a kernels TU's flags.
    kernel_flags = next(c for f, c in by_file.items() if "/kernels/" in f and "/tests/" not in f)
    src_root = ROOT
    for name in sorted(os.listdir(os.path.join(src_root, "kernels"))):
        if name.endswith("_cuda.cpp"):
            by_file[os.path.join(src_root, "kernels", name)] = kernel_flags[:-1]  # the source comes last
    for f, cmd in by_file.items():
        if args.only and not re.search(args.only, f):
            continue
        if cmd[-1] != f:
            cmd = [w for w in cmd if w != f] + [f]
        jobs.append((f, cmd))

    if pch_cmd is not None:
        gch = pch_header + ".gch"
        build = pch_cmd[:-1] + ["-x", "c++-header", pch_header, "-o", gch, "-MD", "-MF", gch + ".d"]
        r = subprocess.run(build, capture_output=True, text=True)
        if r.returncode != 0:
            print("check-torch-api: the precompiled <ATen/ATen.h> does not build:\n" + r.stderr[:4000])
            return 1
        if re.search(r"\s/usr/include/(ATen|c10|torch|caffe2)/", open(gch + ".d").read()):
            print("check-torch-api: the precompiled <ATen/ATen.h> took headers from the system LibTorch (see "
                  f"{gch}.d): is --torch-include right?")
            return 1

    # /usr/include stays on the search path (libc lives there), so a header that the other LibTorch removed
    # would silently come from Debian's 1.13 copy: the dependency list (-MD) must show no such header.
    stale = re.compile(r"\s/usr/include/(ATen|c10|torch|caffe2)/")

    def check(job):
        f, cmd = job
        dep = os.path.join(args.out, os.path.relpath(f, src_root).replace("/", "_") + ".d")
        r = subprocess.run(cmd + ["-MD", "-MF", dep], capture_output=True, text=True, cwd=args.build)
        err = r.stderr
        if r.returncode == 0 and os.path.exists(dep) and stale.search(open(dep).read()):
            headers = sorted(set(m.group(0).strip() for m in re.finditer(r"/usr/include/(ATen|c10|torch|caffe2)/\S+",
                                                                          open(dep).read())))
            err += "error: headers taken from the system LibTorch 1.13 instead: " + " ".join(headers[:5]) + "\n"
            return f, 1, err
        return f, r.returncode, err

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for f, rc, err in pool.map(check, jobs):
            rel = os.path.relpath(f, src_root)
            log = os.path.join(args.out, rel.replace("/", "_") + ".log")
            with open(log, "w") as out:
                out.write(err)
            if rc == 0:
                print(f"  ok   {rel}", flush=True)
            else:
                failed += 1
                errors = [l for l in err.splitlines() if "error" in l][:8]
                print(f"  FAIL {rel}\n      " + "\n      ".join(errors), flush=True)
    print(f"check-torch-api: {len(jobs) - failed} of {len(jobs)} files compile against {args.torch_include} ({args.std})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
