// Did-you-mean suggestions for error messages (job spec parser, planner, expressions, config)
// ("unknown input 'bgi' (did you mean 'big'?)"). Stateless functions; thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice {

// The candidate closest to `word` (case-insensitive optimal-string-alignment distance, at most
// about a third of the word's length), or "" when none is close enough.
std::string ClosestMatch(absl::string_view word, std::initializer_list<absl::string_view> candidates);
std::string ClosestMatch(absl::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" for the closest candidate, or "" when none is close enough.
std::string DidYouMean(absl::string_view word, std::initializer_list<absl::string_view> candidates);
std::string DidYouMean(absl::string_view word, const std::vector<std::string>& candidates);

}  // namespace sluice
