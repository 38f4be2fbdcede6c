// "Did you mean": the known words closest to a mistyped one, as git suggests commands. Pure.
#pragma once

#include <string>
#include <vector>

namespace converge {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters each cost 1 ("aply" -> "apply" is 1, "plna" -> "plan" is 1).
int EditDistance(const std::string& a, const std::string& b);

// The candidates closest to `typed` (case ignored), in their given order: those `typed` begins
// (when at least 2 characters are typed), else those at the smallest edit distance when it is at
// most 2 and at most half of what was typed. Empty when nothing is close.
std::vector<std::string> SimilarWords(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace converge
