// Compiled once to produce the shared precompiled <ATen/ATen.h> (see the top-level CMakeLists.txt).
