// Test helpers for Prometheus text: `promtool check metrics` (Debian package `prometheus`,
// installed by scripts/install-deps.sh; a missing promtool fails the test with a clear
// message, it never skips) and reading sample values out of a /metrics page.
// Used by the test thread only.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::testing {

// Runs `promtool check metrics` on `text`; returns its exit code (127: promtool missing) and
// its output.
inline int PromtoolCheck(const std::string& text, std::string* output) {
  static int counter = 0;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("sluice-promtool-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".prom");
  std::ofstream(file) << text;
  const std::string cmd =
      "command -v promtool >/dev/null 2>&1 || { echo 'promtool not found: install the Debian "
      "package prometheus (scripts/install-deps.sh)'; exit 127; }; promtool check metrics < " +
      file.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = pclose(pipe);
  std::filesystem::remove(file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Sum of the values of every sample of metric `name` whose label set contains every string
// of `label_parts` (e.g. {"vertex=\"src\""}); -1 when there is none.
inline double SumSamples(const std::string& text, const std::string& name,
                         std::initializer_list<std::string> label_parts = {}) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    bool match = true;
    for (const std::string& part : label_parts)
      match = match && line.find(part) != std::string::npos;
    if (!match) continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    found = true;
  }
  return found ? sum : -1;
}

}  // namespace sluice::testing
