// Base-128 varints and zigzag encoding, as Avro (every int and long) and protobuf (varint
// fields, sint32/sint64, Confluent's message indexes) write them. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::types {

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

inline int64_t ZigZagDecode(uint64_t raw) {
  return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
}

inline void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

}  // namespace sluice::types
