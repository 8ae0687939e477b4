// EmbeddedFile: one file compiled into a binary by cmake/EmbedFiles.cmake (the JobManager's
// dashboard, web/). `name` is the file's base name, `data` its `size` bytes.
#pragma once

#include <cstddef>

namespace sluice {

struct EmbeddedFile {
  const char* name;
  const char* data;
  size_t size;
};

}  // namespace sluice
