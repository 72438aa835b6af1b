// The trusted Python harness for assert-style tests (HumanEval, MBPP) and the proof that it finished.
//
// The harness is the sandboxed program's main file; the candidate and the tests are separate files it
// compiles and executes in order in one namespace. Before any of them runs, a "notary" thread reads the
// per-run secret from fd 3 (then closes it); the secret lives only in that thread's frame. When the main
// thread has executed every segment it blocks on a fixed line of the harness; the notary, woken, checks
// through sys._current_frames() that the main thread's current frame *is* the harness frame (identity,
// captured before untrusted code ran) at that line, and only then writes "R1-HARNESS-PASS <secret>" on a
// private duplicate of stdout. A wake-up from anywhere else (untrusted code releasing the lock) is
// ignored, because the main thread is then inside the candidate, not at that line.
//
// An audit hook (which cannot be removed) closes the ways to read another thread's frame or raw memory:
// sys._current_frames (except for the notary), settrace/setprofile (a tracer could also jump over
// asserts), gc.get_objects/referrers/referents, ctypes, hand-made code objects (code.__new__, which
// covers CodeType() and code.replace(): crafted bytecode can read arbitrary memory) and any path under
// /proc (the sandbox has no /proc; this is defence in depth). Everything the harness calls after untrusted code started was bound to a
// local before it started, so patching builtins, os, sys or threading changes nothing it does.
// Not defended: semantic hacks on the tests' own comparisons (returning an object whose __eq__ is always
// True), a property of the tests rather than of the harness; and crafted bytecode smuggled in through
// marshal.loads (the import system itself uses marshal, so it cannot be refused).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sandbox/sandbox.h"

namespace r1::rewards {

// A named source file executed by the harness, in order.
using Segment = std::pair<std::string, std::string>;  // file name (e.g. "solution.py"), source

// The harness program text (the line number the notary checks is filled in).
const std::string& python_harness();

// A random 128-bit secret, hex.
std::string make_secret();

// The sandbox request running `segments` under the harness with `secret` on fd 3.
sandbox::Request harness_request(const std::vector<Segment>& segments, const std::string& secret,
                                 const sandbox::Limits& limits);

// Whether the result proves completion: status ok and the marker line with this secret on stdout.
bool harness_passed(const sandbox::Result& result, const std::string& secret);

}  // namespace r1::rewards
