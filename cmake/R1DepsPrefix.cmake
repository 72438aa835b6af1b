# R1_DEPS_PREFIX: r1's Debian dependencies from a private folder instead of the system, for machines that
# lack them and where nothing may be installed into / (the GPU image: PyTorch, nvcc, CMake, ninja, none of
# RapidJSON, CLI11, PCRE2, ICU, GMP, libseccomp, sentencepiece, GoogleTest). The folder holds Debian 12
# packages unpacked with `dpkg -x DEB PREFIX` (runtime and -dev packages alike; scripts/gpu-prep.sh
# downloads them here, scripts/gpu-session.sh unpacks them there and rewrites the pkg-config files' /usr to
# PREFIX/usr). Empty (the default, every CPU build): nothing changes.
#
# What it does, before any dependency is looked up:
#   * PREFIX/usr goes first in CMAKE_PREFIX_PATH (find_library, find_package configs such as GTest's) and
#     its pkg-config folders first in PKG_CONFIG_PATH; PREFIX/usr/include and its multiarch folder become
#     system include directories of every target (header-only RapidJSON and CLI11 have no CMake target);
#   * binaries get PREFIX/usr/lib/<multiarch> as an RPATH, written as DT_RPATH (--disable-new-dtags), not
#     DT_RUNPATH: a DT_RUNPATH would only serve the binary's own dependencies, and libicuuc.so.72 must find
#     libicudata.so.72 too. So nothing needs LD_LIBRARY_PATH, which would also hand Debian's libgmp or
#     libpcre2 to the image's own compiler and tools.
#   * when no pkg-config is on PATH, PREFIX/bin/pkg-config (the script's wrapper around the unpacked
#     pkgconf) is used.
set(R1_DEPS_PREFIX "" CACHE PATH "Debian packages unpacked with dpkg -x into this folder (empty: use the system's)")
if(R1_DEPS_PREFIX)
  get_filename_component(R1_DEPS_PREFIX "${R1_DEPS_PREFIX}" ABSOLUTE)
  if(NOT IS_DIRECTORY "${R1_DEPS_PREFIX}/usr")
    message(FATAL_ERROR "R1_DEPS_PREFIX=${R1_DEPS_PREFIX}: no usr/ folder in it (expected Debian packages unpacked with dpkg -x)")
  endif()
  set(_r1_arch "${CMAKE_LIBRARY_ARCHITECTURE}")
  if(NOT _r1_arch)
    set(_r1_arch x86_64-linux-gnu)
  endif()
  set(R1_DEPS_LIBDIR "${R1_DEPS_PREFIX}/usr/lib/${_r1_arch}")
  list(PREPEND CMAKE_PREFIX_PATH "${R1_DEPS_PREFIX}/usr")
  set(ENV{PKG_CONFIG_PATH} "${R1_DEPS_LIBDIR}/pkgconfig:${R1_DEPS_PREFIX}/usr/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  include_directories(SYSTEM "${R1_DEPS_PREFIX}/usr/include" "${R1_DEPS_PREFIX}/usr/include/${_r1_arch}")
  list(APPEND CMAKE_BUILD_RPATH "${R1_DEPS_LIBDIR}")
  add_link_options("LINKER:--disable-new-dtags")
  find_program(_r1_pkg_config NAMES pkg-config pkgconf NO_CACHE)
  if(NOT _r1_pkg_config AND EXISTS "${R1_DEPS_PREFIX}/bin/pkg-config")
    set(PKG_CONFIG_EXECUTABLE "${R1_DEPS_PREFIX}/bin/pkg-config" CACHE FILEPATH "pkg-config from R1_DEPS_PREFIX")
  endif()
  message(STATUS "r1: dependencies from ${R1_DEPS_PREFIX} (RPATH ${R1_DEPS_LIBDIR})")
endif()
