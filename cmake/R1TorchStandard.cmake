# r1_match_torch_cxx_standard(): after find_package(Torch), raise CMAKE_CXX_STANDARD to 20 when the LibTorch
# headers demand it. LibTorch 1.13 .. 2.12 accept C++17; newer ones stop in ATen/ATen.h with "#error C++20
# or later compatible compiler is required to use ATen" (checked against Debian's 2.14 headers). r1's code is
# C++17 and also compiles as C++20 (scripts/check-libtorch2.sh checks both), so the CPU build (Debian's
# 1.13) stays C++17 and only a newer LibTorch moves the standard. Reads the header instead of trusting a
# version number, so a LibTorch that changes its mind again is followed. CUDA sources (kernels/*.cu) never
# see LibTorch and keep CMAKE_CUDA_STANDARD.
# R1_CXX_STANDARD (17 or 20) overrides the detection, e.g. for a LibTorch whose headers need C++20 features
# without saying so.
set(R1_CXX_STANDARD "" CACHE STRING "C++ standard of r1's sources (empty: 17, or 20 when the LibTorch headers require it)")
function(r1_match_torch_cxx_standard)
  if(R1_CXX_STANDARD)
    message(STATUS "r1: building C++ as C++${R1_CXX_STANDARD} (R1_CXX_STANDARD)")
    set(CMAKE_CXX_STANDARD ${R1_CXX_STANDARD} PARENT_SCOPE)
    return()
  endif()
  foreach(dir ${TORCH_INCLUDE_DIRS})
    if(EXISTS "${dir}/ATen/ATen.h")
      file(STRINGS "${dir}/ATen/ATen.h" needs_cxx20 REGEX "__cplusplus < 202002L")
      if(needs_cxx20)
        message(STATUS "r1: LibTorch ${Torch_VERSION} requires C++20 (${dir}/ATen/ATen.h); building C++ as C++20")
        set(CMAKE_CXX_STANDARD 20 PARENT_SCOPE)
      endif()
      return()
    endif()
  endforeach()
  message(WARNING "r1: ATen/ATen.h not found under TORCH_INCLUDE_DIRS (${TORCH_INCLUDE_DIRS}); keeping C++${CMAKE_CXX_STANDARD}")
endfunction()
