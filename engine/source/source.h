// Source: fetch a Git repository into a persistent bare cache (one per URL under the state dir),
// resolve a branch, tag or full SHA to a commit, and read files straight from the commit's tree
// without a checkout. Uses libgit2. A Snapshot is used by one thread at a time; Fetch may run on
// several threads for different URLs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"

namespace converge {

class Env;

// How long a fetch waits for a Git server by default: to connect (all of a host's addresses
// together), and for each read or write to make progress (no data for this long aborts).
inline constexpr int64_t kDefaultConnectTimeoutMs = 30000;
inline constexpr int64_t kDefaultIdleTimeoutMs = 60000;

struct SourceSpec {
  std::string url;   // local path, file://, git://, http(s)://, ssh://
  std::string ref;   // branch, tag or full SHA; empty = the remote's default branch (HEAD)
  std::string path;  // subdirectory holding the specs; empty = the whole tree
  // Names of environment variables holding credentials (never the secrets themselves):
  std::string username_env;  // https user name (default "git")
  std::string token_env;     // https token or password
  std::string ssh_key_env;   // path to an ssh private key file
  std::string ssh_passphrase_env;
  // Deadlines of every network wait (ls-remote, fetch), on the monotonic clock; both > 0.
  int64_t connect_timeout_ms = kDefaultConnectTimeoutMs;
  int64_t idle_timeout_ms = kDefaultIdleTimeoutMs;
};

// One spec file in a commit: its path in the repository and its blob id (content hash). A
// kustomize directory (one holding kustomization.yaml, .yml or Kustomization) is one file: the
// output of rendering it, with `kustomize_dir` set and, as blob id, a key that changes exactly
// when its output may (the directory's tree id, or a hash of the whole tree when its
// kustomization reaches outside it with `..`). Files inside kustomize directories are not listed.
struct SourceFile {
  std::string path;
  std::string blob_id;        // 40-hex git object id (or render key)
  std::string kustomize_dir;  // "" for a plain file
};

// A resolved commit in the cache.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual const std::string& commit() const = 0;  // 40-hex SHA
  // Every *.yaml / *.yml file under spec.path outside kustomize directories, and each kustomize
  // directory that no other kustomization uses as a resource, sorted by path.
  virtual const std::vector<SourceFile>& files() const = 0;
  // What the listing passed over that the user should know: submodules (not read) and symlinks to
  // nothing, each naming its path in `file`.
  virtual const std::vector<Diagnostic>& warnings() const {
    static const std::vector<Diagnostic> kNone;
    return kNone;
  }
  // The blob's content; for a kustomize directory, its rendered output: `kustomize build` (or
  // `kubectl kustomize`) run through the Env on a checkout of the commit, cached by render key
  // under the cache root, so an unchanged directory is never rendered twice. Invalid naming the
  // directory, with kustomize's message, when rendering fails.
  virtual Result<std::string> Read(const SourceFile& file) const = 0;
};

// Fetches `spec.url` into `<cache_root>/<hash of url>.git` (created on first use; later fetches are
// incremental, and skipped when the ref already resolves to a commit in the cache: a SHA, or a
// branch/tag whose remote id, from ls-remote, is unchanged) and resolves spec.ref.
// Errors are one line naming the URL and ref: Unavailable (unreachable), NotFound (unknown ref or
// path), PermissionDenied (authentication failed), Timeout (the server did not accept the
// connection, or sent nothing, within the spec's timeouts: see socket_stream.h). Credentials
// never appear in messages or logs.
Result<std::unique_ptr<Snapshot>> FetchSource(const SourceSpec& spec, const std::string& cache_root, Env* env);

// A URL with any user:password@ part removed, for messages.
std::string RedactUrl(const std::string& url);

}  // namespace converge
