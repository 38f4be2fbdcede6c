// SecretKey: the random key of the keyed hash (HMAC-SHA256) that stands for Secret values in
// plans, diffs and the inventory, so that nothing converge prints or records lets anyone confirm
// a guess of a value offline (an unsalted hash of a weak password would). One key per state dir,
// in <state-dir>/secret.key: 64 hex digits (32 bytes from the Env's random source) and a newline,
// mode 0600, created on first use by writing a temporary file and linking it into place, so two
// processes creating it at once agree on one key and nobody reads half a key. Losing the file
// only costs one more diff of each Secret (its recorded tags no longer match). Immutable and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace converge {

class Env;

class SecretKey {
 public:
  // The key of `state_dir`, created when missing. Unavailable when it can be neither read nor
  // created (e.g. a read-only state dir without one); Corrupt when the file holds no key.
  static Result<SecretKey> Open(const std::string& state_dir, Env* env);
  // A key for this process only, for a state dir that cannot hold one: its tags match nothing
  // recorded, so every recorded Secret compares as changed (the safe direction).
  static SecretKey Ephemeral(Env* env);

  // The first 16 hex digits of HMAC-SHA256(key, value).
  std::string Tag(std::string_view value) const;

 private:
  explicit SecretKey(std::string key) : key_(std::move(key)) {}
  std::string key_;  // raw bytes
};

// Lowercase hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace converge
