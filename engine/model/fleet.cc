#include "engine/model/fleet.h"

namespace converge {

std::string Diagnostic::ToString() const {
  if (file.empty()) return message;
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

std::string JsonPointerOf(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& segment : path) {
    out += '/';
    for (char c : segment) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

}  // namespace converge
