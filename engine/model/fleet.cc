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

}  // namespace converge
