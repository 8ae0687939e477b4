// SLUICE_CHECK: aborts on a programmer error (never on bad input, which gets a Status).
// (Debian's Abseil 20220623 has no absl/log, hence this.)
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#define SLUICE_CHECK(cond, msg)                                                        \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                          \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
