#include "engine/cli/suggest.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace converge {

int EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  // d[i][j]: distance between the first i characters of a and the first j of b.
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; i++) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; j++) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; i++) {
    for (size_t j = 1; j <= m; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::vector<std::string> SimilarWords(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string lower = typed;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::string> out;
  if (lower.size() >= 2) {
    for (const std::string& c : candidates)
      if (c.size() > lower.size() && c.rfind(lower, 0) == 0) out.push_back(c);
    if (!out.empty()) return out;
  }
  int best = std::numeric_limits<int>::max();
  for (const std::string& c : candidates) best = std::min(best, EditDistance(lower, c));
  if (best > 2 || best > static_cast<int>(lower.size()) / 2) return out;
  for (const std::string& c : candidates)
    if (EditDistance(lower, c) == best) out.push_back(c);
  return out;
}

}  // namespace converge
