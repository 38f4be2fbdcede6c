#include "engine/k8s/names.h"

namespace converge::k8s {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string TooLong(std::string_view s, size_t max) {
  return "must be no more than " + std::to_string(max) + " characters (it has " + std::to_string(s.size()) + ")";
}

// The syntax of one DNS-1123 label, without the length rule.
bool Is1123Label(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string CheckDns1123Label(std::string_view s) {
  if (s.size() > kDns1123LabelMaxLength) return TooLong(s, kDns1123LabelMaxLength);
  if (!Is1123Label(s)) {
    return "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending with a "
           "letter or digit (e.g. 'my-name')";
  }
  return "";
}

std::string CheckDns1035Label(std::string_view s) {
  if (s.size() > kDns1123LabelMaxLength) return TooLong(s, kDns1123LabelMaxLength);
  if (!Is1123Label(s) || IsDigit(s.front())) {
    return "must be an RFC 1035 label: lowercase letters, digits and '-', starting with a letter and ending with a "
           "letter or digit (e.g. 'my-name')";
  }
  return "";
}

std::string CheckDns1123Subdomain(std::string_view s) {
  if (s.size() > kDns1123SubdomainMaxLength) return TooLong(s, kDns1123SubdomainMaxLength);
  bool ok = !s.empty();
  size_t start = 0;
  while (ok) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    ok = Is1123Label(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!ok) {
    return "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending "
           "with a letter or digit (e.g. 'example.com')";
  }
  return "";
}

std::string CheckPathSegmentName(std::string_view s) {
  if (s == "." || s == "..") return "may not be '" + std::string(s) + "'";
  for (char c : s) {
    if (c == '/' || c == '%') return std::string("may not contain '") + c + "'";
  }
  return "";
}

std::string CheckQualifiedName(std::string_view s) {
  std::string_view name = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) return "has an empty prefix before '/'";
    std::string why = CheckDns1123Subdomain(prefix);
    if (!why.empty()) return "prefix \"" + std::string(prefix) + "\" " + why;
  }
  if (name.empty()) return "has an empty name";
  if (name.size() > kQualifiedNameMaxLength) {
    return "name part " + TooLong(name, kQualifiedNameMaxLength);
  }
  bool ok = IsAlnum(name.front()) && IsAlnum(name.back());
  for (char c : name) ok = ok && (IsAlnum(c) || c == '-' || c == '_' || c == '.');
  if (!ok) {
    return "must be a name of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with an "
           "optional DNS subdomain prefix and '/' (e.g. 'example.com/my-key')";
  }
  return "";
}

std::string CheckLabelValue(std::string_view s) {
  if (s.empty()) return "";
  if (s.size() > kLabelValueMaxLength) return TooLong(s, kLabelValueMaxLength);
  bool ok = IsAlnum(s.front()) && IsAlnum(s.back());
  for (char c : s) ok = ok && (IsAlnum(c) || c == '-' || c == '_' || c == '.');
  if (!ok) {
    return "must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. "
           "'v1.2-beta')";
  }
  return "";
}

std::string CheckConfigMapKey(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > kConfigMapKeyMaxLength) return TooLong(s, kConfigMapKeyMaxLength);
  if (s == "." || s == "..") return "may not be '" + std::string(s) + "'";
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "must consist of letters, digits, '-', '_' or '.' (e.g. 'key.name' or 'KEY_NAME')";
    }
  }
  return "";
}

std::string CheckQuantity(std::string_view s) {
  static const char* const kBad =
      "is not a quantity: write a number with an optional suffix, e.g. 250m, 1, 0.5, 128Mi, 1Gi, 500M";
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return kBad;
  std::string_view suffix = s.substr(i);
  static const char* const kSuffixes[] = {"", "n", "u", "m", "k", "M", "G", "T", "P", "E",
                                          "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (const char* ok : kSuffixes) {
    if (suffix == ok) return "";
  }
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
    size_t exp_digits = 0;
    while (j < suffix.size() && IsDigit(suffix[j])) ++j, ++exp_digits;
    if (exp_digits > 0 && j == suffix.size()) return "";
  }
  return kBad;
}

std::string SuggestDnsName(std::string_view s, size_t max_length) {
  std::string out;
  for (char c : s) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (IsLowerAlnum(l)) {
      out += l;
    } else if ((l == '-' || l == '_' || l == ' ' || l == '.') && !out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.size() > max_length) out.resize(max_length);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace converge::k8s
