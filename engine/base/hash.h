// Content hashes (SHA-256, hex) used to key everything expensive by what it contains.
#pragma once

#include <string>
#include <string_view>

namespace converge {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace converge
