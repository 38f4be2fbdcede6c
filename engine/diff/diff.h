// Diff: desired vs live vs last-applied, pure (no I/O).
// The comparison predicts what the live object would be after converge applied `desired` with
// server-side-apply semantics (ApplyMerge) and compares that with live, both normalized:
//   - server-populated fields (status, metadata.resourceVersion/uid/generation/
//     creationTimestamp/managedFields/selfLink) are never differences;
//   - fields only the server or others set (defaults) are kept by the merge, so not differences;
//   - a field that converge applied before (in last-applied) and Git no longer has is removed.
#pragma once

#include <string>

#include "engine/model/object.h"

namespace converge {

class SecretKey;

enum class ChangeType { kCreate, kUpdate, kDelete, kUnchanged };

const char* ChangeTypeName(ChangeType t);  // "create", "update", "delete", "unchanged"

struct ObjectDiff {
  ChangeType type = ChangeType::kUnchanged;
  std::string unified;  // kubectl-diff-like unified diff of YAML; empty when unchanged
};

// Server-side apply of `desired` onto `live` by field manager converge, which previously applied
// `last_applied` (nullptr: nothing). Maps merge recursively; lists of maps whose items all carry a
// merge key (name, containerPort, port, mountPath, devicePath) merge by it; other lists are
// replaced whole. Fields in last_applied but not in desired
// are removed. `live` may be nullptr (create): the result is desired.
Json ApplyMerge(const Json* live, const Json& desired, const Json* last_applied);

// `object` without server-populated fields (see above).
Json Normalize(const Json& object);

// Compares; any of the three may be nullptr. desired null + live present = delete (prune);
// desired present + live null = create. Secrets are compared by their values' tags under
// `secrets` (see RedactSecret), which must be the key the inventory's last-applied was redacted with.
ObjectDiff DiffObject(const Json* desired, const Json* live, const Json* last_applied, const SecretKey& secrets);

// True for core v1 Secrets.
bool IsSecret(const Json& object);
// A Secret with every data/stringData value replaced by "(sensitive, hmac:<16 hex>)", the value's
// keyed hash under the state dir's key (engine/base/secret_key.h), idempotent; other objects
// unchanged. DiffObject compares Secrets this way, so equal contents stay equal, a change shows as
// a changed tag, values never reach a diff or the store, and a printed tag cannot be checked
// against a guessed value without the key. (Placeholders written by older versions,
// "(sensitive, sha256:...)", are kept as they are and never equal a live value's tag.)
Json RedactSecret(const Json& object, const SecretKey& secrets);

// A Secret as the API server stores it: each stringData value base64-encoded into data (over a
// data value of the same key), and stringData removed; other objects unchanged. Values already
// redacted are moved as they are. The sim stores Secrets this way, and the diff compares them so.
Json WithStringDataAsData(const Json& object);

// Deterministic block YAML for display (keys sorted).
std::string ToYaml(const Json& object);

// Unified diff (3 lines of context) between two texts, with ---/+++ headers named a_label/b_label.
// Colored with ANSI codes when `color` is set.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label, bool color = false);

}  // namespace converge
