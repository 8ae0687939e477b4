#include "common/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ASCII
// case-insensitive.
int Distance(absl::string_view a, absl::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const char ca = absl::ascii_tolower(a[i - 1]);
      const char cb = absl::ascii_tolower(b[j - 1]);
      const int cost = ca == cb ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && ca == absl::ascii_tolower(b[j - 2]) &&
          absl::ascii_tolower(a[i - 2]) == cb) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string Closest(absl::string_view word, const std::vector<absl::string_view>& candidates) {
  const int limit = std::clamp(static_cast<int>(word.size() + 2) / 3, 1, 3);
  int best = limit + 1;
  absl::string_view best_candidate;
  for (absl::string_view c : candidates) {
    if (c == word) continue;
    const int d = Distance(word, c);
    if (d < best) {
      best = d;
      best_candidate = c;
    }
  }
  return best <= limit ? std::string(best_candidate) : std::string();
}

std::string Suggestion(const std::string& match) {
  return match.empty() ? std::string() : absl::StrCat(" (did you mean '", match, "'?)");
}

}  // namespace

std::string ClosestMatch(absl::string_view word, std::initializer_list<absl::string_view> candidates) {
  return Closest(word, std::vector<absl::string_view>(candidates));
}

std::string ClosestMatch(absl::string_view word, const std::vector<std::string>& candidates) {
  return Closest(word, std::vector<absl::string_view>(candidates.begin(), candidates.end()));
}

std::string DidYouMean(absl::string_view word, std::initializer_list<absl::string_view> candidates) {
  return Suggestion(ClosestMatch(word, candidates));
}

std::string DidYouMean(absl::string_view word, const std::vector<std::string>& candidates) {
  return Suggestion(ClosestMatch(word, candidates));
}

}  // namespace sluice
