// SourceIdentity: which repository (and which directory of it) a source is, however the user
// spelled it. Two spellings name the same source when their identities are equal:
//   local paths   made absolute against the working directory and canonical (symlinks and `..`
//                 resolved for the part that exists); `file://` URLs are local paths; a path
//                 ending in the work tree's `.git` directory names the work tree. Shown as
//                 file:///abs/path. A trailing `.git` of a local path is kept: `repo.git` and
//                 `repo` are different directories on disk.
//   remote URLs   scheme and host lower-cased, the scheme's default port dropped (http 80,
//                 https 443, ssh 22, git 9418), a password dropped (never stored), trailing `/`
//                 and `.git` dropped. scp-like `user@host:path` becomes ssh://user@host/path, as
//                 Argo CD's NormalizeGitURL does. Path case is kept: servers may treat it as
//                 significant.
//   the path      (`--path`) split on `/`, with empty and `.` parts dropped; `..` may not leave
//                 the repository; the whole tree is "".
// The ref is not part of the identity: it is a property of the source, so switching refs is a
// change like any other commit. Pure, except that local paths are resolved on the file system.
#pragma once

#include <string>

#include "engine/base/status.h"

namespace converge {

struct SourceIdentity {
  std::string url;        // normalized, without secrets: what the store and messages show
  std::string fetch_url;  // what libgit2 is given: the canonical path of a local repository, else
                          // the URL as typed (servers differ on whether "repo" finds "repo.git")
  std::string path;       // normalized subdirectory; "" for the whole tree
};

// The identity of (`url`, `path`). Relative local paths are resolved against `cwd` (the working
// directory when empty). Invalid, naming the input, for an empty URL or a path that leaves the
// repository.
Result<SourceIdentity> IdentifySource(const std::string& url, const std::string& path, const std::string& cwd = "");

// The normalized form of a URL recorded by an older converge (already redacted), for migrating
// stores: local absolute paths and remote URLs as above; a relative path cannot be resolved (the
// directory it was typed in is unknown) and is returned unchanged, with `*resolved` false.
std::string NormalizeRecordedUrl(const std::string& url, bool* resolved);
// The normalized `--path` ("" for the whole tree); Invalid when it leaves the repository.
Result<std::string> NormalizeSourcePath(const std::string& path);

}  // namespace converge
