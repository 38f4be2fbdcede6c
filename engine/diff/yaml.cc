// ToYaml: deterministic block YAML for plan output and diffs. Keys come out sorted (nlohmann's
// default object is a sorted map); lists of maps are written Kubernetes-style ("- key: v" at the
// parent key's indentation). Strings are written plain when that reads back as the same string,
// as a "|" literal block when they span lines, and double-quoted (JSON escapes) otherwise. Pure.
#include <cmath>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/diff/diff.h"

namespace converge {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// True when a plain scalar with this text could be read as something other than a string by a
// YAML 1.1 or 1.2 reader (bool, null, number, timestamp-ish). Conservative on purpose.
bool LooksTyped(std::string_view s) {
  static const char* const kWords[] = {"true", "false", "yes", "no",  "on",   "off",  "y",
                                       "n",    "null", "~",   ".inf", "-.inf", "+.inf", ".nan"};
  for (const char* w : kWords) {
    if (IEquals(s, w)) return true;
  }
  const char first = s[0];
  if (!((first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.')) return false;
  bool digit = false;
  for (char c : s) {
    digit = digit || (c >= '0' && c <= '9');
    const bool numeric = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                         c == 'x' || c == 'X' || c == 'o' || c == 'O' || c == '_' || c == '+' ||
                         c == '-' || c == '.' || c == ':';
    if (!numeric) return false;
  }
  return digit;  // "-f", "-" and "." are strings; "-1", "1e3", "0x1F", "1:30" are not
}

bool IsPrintable(unsigned char c) { return c >= 0x20 && c != 0x7f; }

bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  if (LooksTyped(s)) return true;
  const char first = s[0];
  switch (first) {
    case '?': case ':': case '-':
      // "-x", ":x" and "?x" are plain; "- x", "-" are not.
      if (s.size() == 1 || s[1] == ' ' || s[1] == '\t') return true;
      break;
    case ',': case '[': case ']': case '{': case '}': case '#': case '&': case '*': case '!':
    case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
      return true;
    default:
      break;
  }
  if (s.back() == ':') return true;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!IsPrintable(c)) return true;  // newline, tab, control characters
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return true;
    if (c == '#' && i > 0 && s[i - 1] == ' ') return true;
  }
  return false;
}

std::string Quoted(const std::string& s) {
  // JSON string escapes are a subset of YAML double-quoted escapes.
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A multi-line string that can be written as a literal block: no leading blank/space (which
// would need an indentation indicator) and only printable characters, tabs and newlines.
bool FitsLiteralBlock(const std::string& s) {
  if (s.find('\n') == std::string::npos) return false;
  if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n') return false;
  for (unsigned char c : s) {
    if (c == '\r' || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

void AppendLiteralBlock(const std::string& s, int indent, std::string& out) {
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  out += '\n';
  const std::string body = s.substr(0, s.size() - trailing);
  const std::string pad(static_cast<size_t>(indent), ' ');
  size_t start = 0;
  while (true) {
    size_t nl = body.find('\n', start);
    std::string_view line(body.data() + start, (nl == std::string::npos ? body.size() : nl) - start);
    if (!line.empty()) {
      out += pad;
      out += line;
    }
    out += '\n';
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  for (size_t i = 1; i < trailing; ++i) out += '\n';  // kept by "|+"
}

std::string ScalarText(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      return v.dump();
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      return NeedsQuotes(s) ? Quoted(s) : s;
    }
    default:
      return v.dump();  // integers, binary
  }
}

bool IsEmptyContainer(const Json& v) { return (v.is_object() || v.is_array()) && v.empty(); }

bool IsBlock(const Json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void AppendValue(const Json& v, int indent, std::string& out);

// Writes the value that follows "key:" or "-": a scalar on the same line, a block below.
// `child_indent` is where a nested map's keys or a literal block's lines go.
void AppendAfterIndicator(const Json& v, int child_indent, int list_indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += '\n';
    AppendValue(v, child_indent, out);
  } else if (v.is_array() && !v.empty()) {
    out += '\n';
    AppendValue(v, list_indent, out);
  } else if (v.is_string() && FitsLiteralBlock(v.get_ref<const std::string&>())) {
    out += ' ';
    AppendLiteralBlock(v.get_ref<const std::string&>(), child_indent, out);
  } else {
    out += ' ';
    out += IsEmptyContainer(v) ? (v.is_object() ? "{}" : "[]") : ScalarText(v);
    out += '\n';
  }
}

void AppendValue(const Json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out += pad;
      out += NeedsQuotes(key) ? Quoted(key) : key;
      out += ':';
      // Lists under a key sit at the key's indentation (kubectl style).
      AppendAfterIndicator(value, indent + 2, indent, out);
    }
    return;
  }
  if (v.is_array()) {
    for (const auto& item : v) {
      if (IsBlock(item)) {
        // Render the item as a block two columns in, then turn its first indentation into "- ".
        std::string block;
        AppendValue(item, indent + 2, block);
        out += pad;
        out += "- ";
        out.append(block, static_cast<size_t>(indent + 2), std::string::npos);
      } else {
        out += pad;
        out += '-';
        AppendAfterIndicator(item, indent + 2, indent + 2, out);
      }
    }
    return;
  }
  out += pad;
  out += ScalarText(v);
  out += '\n';
}

}  // namespace

std::string ToYaml(const Json& object) {
  std::string out;
  if (IsEmptyContainer(object)) return object.is_object() ? "{}\n" : "[]\n";
  if (object.is_string() && FitsLiteralBlock(object.get_ref<const std::string&>())) {
    AppendLiteralBlock(object.get_ref<const std::string&>(), 2, out);
    return out;
  }
  AppendValue(object, 0, out);
  return out;
}

}  // namespace converge
