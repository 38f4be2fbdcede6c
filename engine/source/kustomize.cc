#include "engine/source/kustomize.h"

#include <cctype>

#include "engine/source/identity.h"

namespace converge {

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) b++;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) e--;
  return s.substr(b, e - b);
}

std::string Unquote(std::string s) {
  s = Trim(s);
  if (size_t hash = s.find(" #"); hash != std::string::npos) s = Trim(s.substr(0, hash));
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

bool IsRemote(const std::string& ref) {
  return ref.find("://") != std::string::npos || ref.rfind("github.com/", 0) == 0 || ref.rfind("git@", 0) == 0 ||
         ref.find("?ref=") != std::string::npos;
}

}  // namespace

bool IsKustomizationFile(const std::string& name) {
  return name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization";
}

// The items of the resources, bases and components lists, as written.
std::vector<std::string> RawReferences(const std::string& text) {
  std::vector<std::string> raw;
  bool in_list = false;
  size_t list_indent = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() + 1 : nl + 1;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t indent = line.find_first_not_of(" \t");
    if (indent == 0 && t[0] != '-') {
      in_list = false;
      size_t colon = t.find(':');
      if (colon == std::string::npos) continue;
      std::string key = t.substr(0, colon);
      if (key != "resources" && key != "bases" && key != "components") continue;
      std::string rest = Trim(t.substr(colon + 1));
      if (rest.empty()) {
        in_list = true;
        list_indent = std::string::npos;
      } else if (rest.front() == '[') {  // flow style: resources: [a, ../b]
        std::string inner = rest.substr(1, rest.rfind(']') == std::string::npos ? std::string::npos : rest.rfind(']') - 1);
        size_t p = 0;
        while (p <= inner.size()) {
          size_t comma = inner.find(',', p);
          std::string item = Unquote(inner.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
          if (!item.empty()) raw.push_back(item);
          if (comma == std::string::npos) break;
          p = comma + 1;
        }
      }
      continue;
    }
    if (!in_list) continue;
    if (t[0] != '-') continue;  // a nested mapping line of an item
    if (list_indent == std::string::npos) list_indent = indent;
    if (indent != list_indent) continue;
    std::string item = Unquote(t.substr(1));
    if (!item.empty()) raw.push_back(item);
  }
  return raw;
}

std::vector<std::string> KustomizationReferences(const std::string& dir, const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& r : RawReferences(text)) {
    if (IsRemote(r) || (!r.empty() && r[0] == '/')) continue;
    Result<std::string> resolved = NormalizeSourcePath(dir.empty() ? r : dir + "/" + r);
    if (resolved.ok()) out.push_back(*resolved);
  }
  return out;
}

bool ReachesOutsideItsReferences(const std::string& text) {
  auto count = [](const std::string& s) {
    int n = 0;
    for (size_t at = s.find(".."); at != std::string::npos; at = s.find("..", at + 2)) n++;
    return n;
  };
  int in_refs = 0;
  for (const std::string& item : RawReferences(text)) in_refs += count(item);
  return count(text) > in_refs;
}

std::string KustomizeMessage(const std::string& stderr_text) {
  size_t err = stderr_text.find("err=\"");
  if (err != std::string::npos) {
    size_t end = stderr_text.find("\"\n", err + 5);
    if (end == std::string::npos) end = stderr_text.rfind('"');
    if (end != std::string::npos && end > err + 5) return stderr_text.substr(err + 5, end - err - 5);
  }
  std::string out;
  int lines = 0;
  size_t start = 0;
  while (start < stderr_text.size() && lines < 5) {
    size_t nl = stderr_text.find('\n', start);
    std::string line = Trim(stderr_text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    start = nl == std::string::npos ? stderr_text.size() : nl + 1;
    if (line.empty()) continue;
    out += (out.empty() ? "" : "; ") + line;
    lines++;
  }
  return out.empty() ? "no message" : out;
}

}  // namespace converge
