#include "providers/sim/sim_capacity.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace converge::sim {
namespace {

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

// A decimal number with optional fraction and exponent ("1", "0.5", "1e3"), fully consumed.
std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<NodeCapacity> ParseFlavor(const std::string& flavor) {
  std::vector<std::string> parts = Split(flavor, '.');
  if (parts.size() != 3 || parts[0].empty()) return std::nullopt;
  for (char c : parts[0]) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  const std::string& size = parts[1];
  int64_t vcpu = 0;
  if (size == "medium") {
    vcpu = 1;
  } else if (size == "large") {
    vcpu = 2;
  } else if (size == "xlarge") {
    vcpu = 4;
  } else if (size.size() > 6 && size.compare(size.size() - 6, 6, "xlarge") == 0 &&
             AllDigits(size.substr(0, size.size() - 6)) && size.size() - 6 <= 4) {
    vcpu = 4 * std::stoll(size.substr(0, size.size() - 6));
  }
  if (vcpu <= 0 || !AllDigits(parts[2]) || parts[2].size() > 4) return std::nullopt;
  int64_t ratio = std::stoll(parts[2]);
  if (ratio <= 0) return std::nullopt;
  return NodeCapacity{vcpu * 1000, vcpu * ratio * (int64_t{1} << 30)};
}

std::optional<int64_t> ParseCpuMilli(const std::string& quantity) {
  if (quantity.empty()) return std::nullopt;
  if (quantity.back() == 'm') {
    std::string n = quantity.substr(0, quantity.size() - 1);
    if (!AllDigits(n) || n.size() > 15) return std::nullopt;
    return std::stoll(n);
  }
  std::optional<double> v = ParseNumber(quantity);
  if (!v || *v > 1e12) return std::nullopt;
  return static_cast<int64_t>(std::ceil(*v * 1000 - 1e-9));
}

std::optional<int64_t> ParseBytes(const std::string& quantity) {
  struct Suffix {
    const char* text;
    double factor;
  };
  static const Suffix kSuffixes[] = {
      {"Ki", 1024.0},      {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"k", 1e3},          {"M", 1e6},        {"G", 1e9},           {"T", 1e12},
      {"m", 1e-3},
  };
  std::string number = quantity;
  double factor = 1;
  for (const Suffix& s : kSuffixes) {
    std::string suffix = s.text;
    if (quantity.size() > suffix.size() &&
        quantity.compare(quantity.size() - suffix.size(), suffix.size(), suffix) == 0) {
      number = quantity.substr(0, quantity.size() - suffix.size());
      factor = s.factor;
      break;
    }
  }
  std::optional<double> v = ParseNumber(number);
  if (!v) return std::nullopt;
  double bytes = *v * factor;
  if (bytes > 9e18) return std::nullopt;
  return static_cast<int64_t>(std::ceil(bytes - 1e-9));
}

std::string FormatCpu(int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return std::to_string(milli) + "m";
}

std::string FormatBytes(int64_t bytes) {
  const int64_t kMi = int64_t{1} << 20, kGi = int64_t{1} << 30;
  if (bytes != 0 && bytes % kGi == 0) return std::to_string(bytes / kGi) + "Gi";
  if (bytes != 0 && bytes % kMi == 0) return std::to_string(bytes / kMi) + "Mi";
  return std::to_string(bytes);
}

}  // namespace converge::sim
