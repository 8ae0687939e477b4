// Stable (not per-process) hashes for identities that must survive restarts and builds:
// datagen's per-column seeds, application-mode fingerprints. Not for security.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace sluice {

// FNV-1a, 64 bits.
inline uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace sluice
