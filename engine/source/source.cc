#include "engine/source/source.h"

#include <git2.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "engine/base/env.h"
#include "engine/base/hash.h"
#include "engine/source/identity.h"
#include "engine/source/kustomize.h"
#include "engine/source/socket_stream.h"

// Cache layout: <cache_root>/<first 16 hex of sha256(redacted normalized url)>.git is a bare
// repository holding every branch of the remote as refs/remotes/origin/* and every tag as
// refs/tags/*, fetched through an anonymous remote (no URL, and so no credential, is stored in it;
// FETCH_HEAD is not written). <cache>.git.lock is held with Env::LockFile (flock) for the whole
// fetch-and-resolve, which serialises threads and processes working on the same URL. Objects are only ever added by fetch,
// so a commit present in the cache always has its whole tree.
// Every network wait has a deadline (connect and idle timeouts from the SourceSpec): libgit2's
// sockets are converge's own stream (socket_stream.h says how and why).

namespace converge {
namespace {

std::once_flag g_libgit2_once;

void InitLibgit2() {
  std::call_once(g_libgit2_once, [] {
    git_libgit2_init();
    source_internal::RegisterDeadlineStream();
  });
}

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
using RepoPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitFree<git_remote, git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;
using TreePtr = std::unique_ptr<git_tree, GitFree<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitFree<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitFree<git_blob, git_blob_free>>;
using OdbPtr = std::unique_ptr<git_odb, GitFree<git_odb, git_odb_free>>;

// libgit2's last error on this thread, on one line.
std::string LastGitError() {
  const git_error* e = git_error_last();
  std::string msg = (e != nullptr && e->message != nullptr) ? e->message : "unknown libgit2 error";
  for (char& c : msg) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!msg.empty() && (msg.back() == ' ' || msg.back() == '.')) msg.pop_back();
  return msg;
}

std::string OidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &oid);
  return buf;
}

bool IsFullSha(const std::string& s) {
  return s.size() == GIT_OID_HEXSZ &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsLocalPath(const std::string& url);

// ssh://... or scp-like user@host:path: transports whose socket libssh2 reads by itself.
bool IsSshUrl(const std::string& url) {
  return StartsWith(url, "ssh://") || StartsWith(url, "ssh+git://") || StartsWith(url, "git+ssh://") ||
         (!IsLocalPath(url) && url.find("://") == std::string::npos);
}

// A plain path (absolute or relative), as opposed to scheme://... or scp-like user@host:path.
bool IsLocalPath(const std::string& url) {
  if (url.find("://") != std::string::npos) return false;
  size_t colon = url.find(':');
  if (colon == std::string::npos) return true;
  size_t slash = url.find('/');
  return slash != std::string::npos && slash < colon;  // "./a:b" is a path; "host:repo" is ssh
}

// The URL libgit2 is given: local paths become absolute and normal; everything else is unchanged.
std::string NormalizeUrl(const std::string& url) {
  if (!IsLocalPath(url)) return url;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(url, ec);
  if (ec) return url;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The password part of scheme://user:password@host/..., or "".
std::string UrlPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t start = scheme + 3;
  size_t end = url.find('/', start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return "";
  std::string userinfo = authority.substr(0, at);
  size_t colon = userinfo.find(':');
  return colon == std::string::npos ? "" : userinfo.substr(colon + 1);
}

// Strips a leading "./" or "/" and trailing "/" from a spec path; "." means the whole tree.
std::string NormalizeTreePath(std::string p) {
  while (StartsWith(p, "./")) p.erase(0, 2);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p == ".") p.clear();
  return p;
}

// Credentials for one fetch, read from the environment variables the spec names. Passed to
// libgit2 as the callback payload.
struct CredentialState {
  std::string username;    // from username_env, may be empty
  std::string token;       // from token_env, may be empty
  std::string ssh_key;     // path, from ssh_key_env
  std::string passphrase;  // from ssh_passphrase_env
  int secret_attempts = 0;
  bool auth_failed = false;
  bool had_secret = false;  // whether a secret was offered at least once
};

// The https user name when none is configured: what the big forges expect with a token.
std::string DefaultHttpsUser(const char* url) {
  std::string u = url != nullptr ? url : "";
  if (u.find("://github.com") != std::string::npos) return "x-access-token";
  if (u.find("://gitlab.com") != std::string::npos) return "oauth2";
  return "git";
}

// libgit2 calls this each time the server asks for credentials. It offers the configured secret
// once; a second request means it was rejected, and answering again would loop forever.
int CredentialsCallback(git_credential** out, const char* url, const char* user_from_url, unsigned int allowed,
                        void* payload) {
  auto* state = static_cast<CredentialState*>(payload);
  bool url_user = user_from_url != nullptr && *user_from_url != '\0';
  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) {
    std::string user = url_user ? user_from_url : (state->username.empty() ? "git" : state->username);
    return git_credential_username_new(out, user.c_str());
  }
  if (++state->secret_attempts > 1) {
    state->auth_failed = true;
    git_error_set_str(GIT_ERROR_NET, "the server rejected the credentials");
    return GIT_EAUTH;
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
    std::string user = url_user ? user_from_url : (state->username.empty() ? "git" : state->username);
    state->had_secret = true;
    if (!state->ssh_key.empty()) {
      return git_credential_ssh_key_new(out, user.c_str(), nullptr, state->ssh_key.c_str(),
                                        state->passphrase.empty() ? nullptr : state->passphrase.c_str());
    }
    return git_credential_ssh_key_from_agent(out, user.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !state->token.empty()) {
    std::string user = !state->username.empty() ? state->username : (url_user ? user_from_url : DefaultHttpsUser(url));
    state->had_secret = true;
    return git_credential_userpass_plaintext_new(out, user.c_str(), state->token.c_str());
  }
  state->auth_failed = true;
  git_error_set_str(GIT_ERROR_NET, "the server asks for credentials and none are configured");
  return GIT_EAUTH;
}

// Defers to libgit2: x509 chains are verified against the system store, and (since 1.5.1, the
// CVE-2023-22742 fix) SSH host keys against ~/.ssh/known_hosts; unknown or changed keys fail.
int CertificateCheckCallback(git_cert* /*cert*/, int /*valid*/, const char* /*host*/, void* /*payload*/) {
  return GIT_PASSTHROUGH;
}

// A kustomization file met by the walk: its directory in the repository and its blob.
struct KustomizationFile {
  std::string dir, name, blob_id;
};

struct WalkState {
  std::string prefix;  // spec path + "/", or ""
  std::vector<SourceFile>* files;
  std::map<std::string, std::string> trees;  // directory ("a/b", "" for the walk's root) -> tree id
  std::vector<KustomizationFile> kustomizations;
  std::vector<std::pair<std::string, std::string>> links;  // symlink path, blob id (its target)
  std::vector<std::string> submodules;
};

std::string DirOf(const std::string& prefix, const char* root) {
  std::string d = prefix + root;
  if (!d.empty() && d.back() == '/') d.pop_back();
  return d;
}

int CollectSpecFiles(const char* root, const git_tree_entry* entry, void* payload) {
  auto* state = static_cast<WalkState*>(payload);
  if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
    std::string dir = DirOf(state->prefix, root);
    state->trees[(dir.empty() ? "" : dir + "/") + git_tree_entry_name(entry)] = OidHex(*git_tree_entry_id(entry));
    return 0;
  }
  std::string name = git_tree_entry_name(entry);
  if (git_tree_entry_type(entry) == GIT_OBJECT_COMMIT) {
    state->submodules.push_back(state->prefix + root + name);
    return 0;
  }
  if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_LINK) {
    state->links.emplace_back(state->prefix + root + name, OidHex(*git_tree_entry_id(entry)));
    return 0;
  }
  if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) return 0;
  if (IsKustomizationFile(name)) {
    state->kustomizations.push_back({DirOf(state->prefix, root), name, OidHex(*git_tree_entry_id(entry))});
    return 0;
  }
  if (!EndsWith(name, ".yaml") && !EndsWith(name, ".yml")) return 0;
  state->files->push_back(SourceFile{state->prefix + root + name, OidHex(*git_tree_entry_id(entry)), ""});
  return 0;
}

bool InsideDir(const std::string& path, const std::string& dir) {
  return dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// The content of `file`'s blob in `repo`; `where` names the repository in messages.
Result<std::string> ReadBlob(git_repository* repo, const SourceFile& file, const std::string& where) {
  git_oid oid;
  if (!IsFullSha(file.blob_id) || git_oid_fromstr(&oid, file.blob_id.c_str()) != 0) {
    return Status::Invalid("bad blob id \"" + file.blob_id + "\" for " + file.path + " in " + where);
  }
  git_blob* raw = nullptr;
  if (git_blob_lookup(&raw, repo, &oid) != 0) {
    return Status::NotFound("cannot read " + file.path + " (blob " + file.blob_id.substr(0, 7) + ") from " + where +
                            ": " + LastGitError());
  }
  BlobPtr blob(raw);
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  return std::string(data, static_cast<size_t>(git_blob_rawsize(blob.get())));
}

// Writes every regular file of `tree` under `dest` (symlinks and submodules are left out).
struct CheckoutState {
  git_repository* repo;
  std::string dest;
  Env* env;
  Status status;
};

int CheckoutEntry(const char* root, const git_tree_entry* entry, void* payload) {
  auto* state = static_cast<CheckoutState*>(payload);
  if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) return 0;
  git_blob* raw = nullptr;
  if (git_blob_lookup(&raw, state->repo, git_tree_entry_id(entry)) != 0) {
    state->status = Status::Corrupt(std::string("cannot read ") + root + git_tree_entry_name(entry) +
                                    " from the cache: " + LastGitError());
    return -1;
  }
  BlobPtr blob(raw);
  std::string dir = state->dest + "/" + root;
  state->status = state->env->CreateDirs(dir);
  if (state->status.ok()) {
    const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
    state->status = state->env->WriteFile(dir + git_tree_entry_name(entry),
                                          std::string(data, static_cast<size_t>(git_blob_rawsize(blob.get()))));
  }
  return state->status.ok() ? 0 : -1;
}

class GitSnapshot : public Snapshot {
 public:
  GitSnapshot(RepoPtr repo, std::string commit, std::vector<SourceFile> files, std::vector<Diagnostic> warnings,
              std::string where, Env* env, std::string render_root, std::string scratch)
      : repo_(std::move(repo)),
        commit_(std::move(commit)),
        files_(std::move(files)),
        warnings_(std::move(warnings)),
        where_(std::move(where)),
        env_(env),
        render_root_(std::move(render_root)),
        scratch_(std::move(scratch)) {}

  ~GitSnapshot() override {
    if (!checkout_.empty()) (void)env_->RemoveAll(checkout_);  // scratch space; a leftover is harmless
    repo_.reset();
    if (!scratch_.empty()) (void)env_->RemoveAll(scratch_);
  }

  const std::string& commit() const override { return commit_; }
  const std::vector<SourceFile>& files() const override { return files_; }
  const std::vector<Diagnostic>& warnings() const override { return warnings_; }

  Result<std::string> Read(const SourceFile& file) const override {
    if (!file.kustomize_dir.empty()) return Render(file);
    return ReadBlob(repo_.get(), file, where_);
  }

 private:
  // The kustomize output of a directory: from the render cache, else rendered on a checkout of
  // the whole commit (a kustomization may use `..`), made once per snapshot.
  Result<std::string> Render(const SourceFile& file) const {
    const std::string cached = render_root_ + "/" + file.blob_id + ".yaml";
    if (env_->FileExists(cached)) {
      Result<std::string> text = env_->ReadFile(cached);
      if (text.ok()) return text;
    }
    const std::string what = "kustomize directory " + (file.kustomize_dir == "." ? "(the root)" : file.kustomize_dir);
    if (checkout_.empty()) {
      char nonce[17];
      snprintf(nonce, sizeof(nonce), "%016llx", static_cast<unsigned long long>(env_->RandomU64()));
      std::string dir = render_root_ + "/checkout-" + commit_.substr(0, 12) + "-" + nonce;
      if (!env_->CreateDirs(dir).ok()) {  // a state dir this process cannot write: a temporary one
        std::error_code ec;
        dir = (std::filesystem::temp_directory_path(ec) / ("converge-kustomize-" + std::string(nonce))).string();
        CONVERGE_RETURN_IF_ERROR(env_->CreateDirs(dir).WithContext("cannot render " + what));
      }
      git_oid oid;
      git_oid_fromstr(&oid, commit_.c_str());
      git_commit* commit_raw = nullptr;
      if (git_commit_lookup(&commit_raw, repo_.get(), &oid) != 0) {
        return Status::Corrupt("cannot read commit " + commit_ + " from the cache: " + LastGitError());
      }
      git_tree* tree_raw = nullptr;
      int rc = git_commit_tree(&tree_raw, commit_raw);
      git_commit_free(commit_raw);
      if (rc != 0) return Status::Corrupt("cannot read the tree of " + where_ + ": " + LastGitError());
      TreePtr tree(tree_raw);
      CheckoutState state{repo_.get(), dir, env_, Status::Ok()};
      checkout_ = dir;  // removed with the snapshot, even when writing it failed half-way
      if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, CheckoutEntry, &state) != 0) {
        return (state.status.ok() ? Status::Corrupt(LastGitError()) : state.status).WithContext("cannot render " + what);
      }
    }
    const std::string target = file.kustomize_dir == "." ? checkout_ : checkout_ + "/" + file.kustomize_dir;
    ProcessOptions run;
    run.timeout_ms = 120'000;
    run.argv = {"kustomize", "build", target};
    Result<ProcessResult> out = env_->RunProcess(run);
    if (!out.ok() || out->exit_code == 127) {  // no kustomize: kubectl has it built in
      run.argv = {"kubectl", "kustomize", target};
      out = env_->RunProcess(run);
    }
    if (!out.ok()) {
      return Status::Unavailable("cannot render " + what + ": " + out.status().message() +
                                 ": install kubectl (or kustomize)");
    }
    if (!out->ok()) {
      std::string msg = KustomizeMessage(out->err);
      // Paths in kustomize's message are the scratch checkout's: show them as the repository's.
      for (size_t pos = msg.find(checkout_ + "/"); pos != std::string::npos; pos = msg.find(checkout_ + "/")) {
        msg.erase(pos, checkout_.size() + 1);
      }
      return Status::Invalid(what + ": kustomize failed (" + out->Describe() + "): " + msg);
    }
    // The cache is only a cache: on a state dir this process cannot write, the next plan renders
    // again. Output holding a Secret (a secretGenerator's, say) is never written to disk.
    const bool has_secret = out->out.rfind("kind: Secret\n", 0) == 0 || out->out.find("\nkind: Secret\n") != std::string::npos;
    if (!has_secret && env_->CreateDirs(render_root_).ok()) (void)env_->WriteFile(cached, out->out);
    return out->out;
  }

  RepoPtr repo_;
  std::string commit_;
  std::vector<SourceFile> files_;
  std::vector<Diagnostic> warnings_;
  std::string where_;  // "<redacted url>@<commit>" for messages
  Env* env_;
  std::string render_root_;       // cache of kustomize output, by render key
  mutable std::string checkout_;  // the commit written out for kustomize, once needed
  std::string scratch_;  // a temporary cache this snapshot owns (removed with it), or ""
};

// One FetchSource call: fetches into the cache if needed, resolves the ref and lists the files.
class SourceFetch {
 public:
  SourceFetch(const SourceSpec& spec, std::string cache_root, Env* env)
      : spec_(spec),
        cache_root_(std::move(cache_root)),
        env_(env),
        watch_(env, spec.connect_timeout_ms, spec.idle_timeout_ms) {
    url_ = NormalizeUrl(spec.url);
    shown_url_ = RedactUrl(url_);
    ref_label_ = spec.ref.empty() ? "HEAD" : spec.ref;
    url_password_ = UrlPassword(url_);
    if (!spec.username_env.empty()) creds_.username = env_->GetVar(spec.username_env);
    if (!spec.token_env.empty()) creds_.token = env_->GetVar(spec.token_env);
    if (!spec.ssh_key_env.empty()) creds_.ssh_key = env_->GetVar(spec.ssh_key_env);
    if (!spec.ssh_passphrase_env.empty()) creds_.passphrase = env_->GetVar(spec.ssh_passphrase_env);
  }

  ~SourceFetch() {
    repo_.reset();
    if (!scratch_.empty()) (void)env_->RemoveAll(scratch_);
  }

  Result<std::unique_ptr<Snapshot>> Run() {
    if (IsLocalPath(url_) && !env_->FileExists(url_)) {
      return Status::NotFound("repository " + shown_url_ + " (ref " + ref_label_ +
                              ") does not exist: check the repository path");
    }
    std::string cache_dir = cache_root_ + "/" + Sha256Hex(shown_url_).substr(0, 16) + ".git";
    std::unique_ptr<FileLock> lock;
    if (CacheWritable(cache_dir)) {
      Result<std::unique_ptr<FileLock>> locked = env_->LockFile(cache_dir + ".lock", /*wait=*/true);
      if (!locked.ok()) return locked.status().WithContext("cannot lock the source cache for " + shown_url_);
      lock = std::move(locked).value();
      CONVERGE_RETURN_IF_ERROR(OpenCache(cache_dir));
    } else {
      CONVERGE_RETURN_IF_ERROR(OpenScratchCache(cache_dir));
    }

    source_internal::ScopedNetworkWatch bind(&watch_);
    if (IsSshUrl(url_)) watch_.StartIdleWatchdog();
    git_oid commit_oid;
    CONVERGE_RETURN_IF_ERROR(IsFullSha(spec_.ref) ? ResolveSha(&commit_oid) : ResolveRef(&commit_oid));
    return MakeSnapshot(commit_oid);
  }

 private:
  // Whether this process may write the cache (a read-only state dir: no).
  bool CacheWritable(const std::string& cache_dir) {
    if (!env_->CreateDirs(cache_root_).ok()) return false;
    if (access(cache_root_.c_str(), W_OK) != 0) return false;
    return !env_->FileExists(cache_dir) || access(cache_dir.c_str(), W_OK) == 0;
  }

  // A cache this fetch may not write (a read-only state dir) is used through a temporary one,
  // which the snapshot removes: it borrows the cache's objects (objects/info/alternates) and
  // refs, so only what the cache lacks is downloaded, and nothing is written to the cache.
  Status OpenScratchCache(const std::string& cache_dir) {
    std::string base = env_->GetVar("TMPDIR");
    std::string tmpl = (base.empty() ? std::string("/tmp") : base) + "/converge-fetch-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Status::Unavailable("the source cache " + cache_root_ + " is not writable, and no temporary one can be "
                                     "made in " + tmpl.substr(0, tmpl.rfind('/')) + ": " + std::strerror(errno),
                                 false);
    }
    scratch_ = tmpl;
    spdlog::info("the source cache {} is not writable: {} is fetched into a temporary copy", cache_root_, shown_url_);
    std::string dir = scratch_ + "/repo.git";
    git_repository* raw = nullptr;
    if (git_repository_init(&raw, dir.c_str(), 1) != 0) {
      return Status::Unavailable("cannot create a temporary source cache for " + shown_url_ + ": " + LastGitError(), false);
    }
    git_repository_free(raw);
    git_repository* cache_raw = nullptr;
    bool borrowed = git_repository_open_bare(&cache_raw, cache_dir.c_str()) == 0;
    RepoPtr cache(cache_raw);
    if (borrowed) {
      borrowed = env_->WriteFile(dir + "/objects/info/alternates", cache_dir + "/objects\n").ok();
    }
    if (git_repository_open_bare(&raw, dir.c_str()) != 0) {
      return Status::Unavailable("cannot open the temporary source cache for " + shown_url_ + ": " + LastGitError(),
                                 false);
    }
    repo_.reset(raw);
    if (borrowed) CopyRefs(cache.get());
    return Status::Ok();
  }

  // The cache's branches and tags, into repo_ (best effort: a ref not copied is fetched).
  void CopyRefs(git_repository* from) {
    git_reference_iterator* it = nullptr;
    if (git_reference_iterator_new(&it, from) != 0) return;
    git_reference* ref = nullptr;
    while (git_reference_next(&ref, it) == 0) {
      if (git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
        git_reference* made = nullptr;
        if (git_reference_create(&made, repo_.get(), git_reference_name(ref), git_reference_target(ref), 1,
                                 "converge: from the read-only cache") == 0) {
          git_reference_free(made);
        }
      }
      git_reference_free(ref);
    }
    git_reference_iterator_free(it);
  }

  Status OpenCache(const std::string& dir) {
    git_repository* raw = nullptr;
    if (git_repository_open_bare(&raw, dir.c_str()) == 0) {
      repo_.reset(raw);
      return Status::Ok();
    }
    // Missing, or damaged beyond opening: start it again (it is only a cache).
    Status removed = env_->RemoveAll(dir);
    if (!removed.ok()) return removed.WithContext("cannot reset the damaged source cache for " + shown_url_);
    if (git_repository_init(&raw, dir.c_str(), 1) != 0) {
      return Status::Unavailable("cannot create the source cache " + dir + " for " + shown_url_ + ": " +
                                     LastGitError() + ": check that the state directory is writable",
                                 false);
    }
    repo_.reset(raw);
    return Status::Ok();
  }

  git_remote_callbacks Callbacks() {
    git_remote_callbacks cbs = GIT_REMOTE_CALLBACKS_INIT;
    cbs.credentials = CredentialsCallback;
    cbs.certificate_check = CertificateCheckCallback;
    cbs.payload = &creds_;
    return cbs;
  }

  Result<RemotePtr> NewRemote() {
    git_remote* raw = nullptr;
    git_remote_create_options opts = GIT_REMOTE_CREATE_OPTIONS_INIT;
    opts.repository = repo_.get();
    opts.name = nullptr;  // anonymous: nothing about the remote is written to the cache's config
    // libgit2 1.5.1 with PCRE2 leaks the regex match data of the url.*.insteadOf lookup on every
    // remote creation (tens of KB per fetch, unbounded in the daemon), so that lookup is skipped.
    opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    if (git_remote_create_with_opts(&raw, url_.c_str(), &opts) != 0) {
      return Status::Invalid("bad repository URL " + shown_url_ + ": " + Scrub(LastGitError()));
    }
    return RemotePtr(raw);
  }

  bool ObjectExists(const git_oid& oid) {
    git_odb* raw = nullptr;
    if (git_repository_odb(&raw, repo_.get()) != 0) return false;
    OdbPtr odb(raw);
    return git_odb_exists(odb.get(), &oid) == 1;
  }

  // The object `oid` peeled to a commit.
  Status PeelToCommit(const git_oid& oid, const std::string& what, git_oid* commit) {
    git_object* raw = nullptr;
    if (git_object_lookup(&raw, repo_.get(), &oid, GIT_OBJECT_ANY) != 0) {
      return Status::NotFound(what + " (" + OidHex(oid).substr(0, 7) + ") is missing from the cache of " + shown_url_ +
                              ": " + LastGitError());
    }
    ObjectPtr obj(raw);
    git_object* peeled_raw = nullptr;
    if (git_object_peel(&peeled_raw, obj.get(), GIT_OBJECT_COMMIT) != 0) {
      return Status::Invalid(what + " in " + shown_url_ + " does not point to a commit: use a branch, tag or commit");
    }
    ObjectPtr peeled(peeled_raw);
    git_oid_cpy(commit, git_object_id(peeled.get()));
    return Status::Ok();
  }

  // A full SHA: no network when the cache has it; otherwise fetch everything and look again.
  Status ResolveSha(git_oid* commit) {
    std::string sha = spec_.ref;
    std::transform(sha.begin(), sha.end(), sha.begin(), [](unsigned char c) { return std::tolower(c); });
    git_oid oid;
    if (git_oid_fromstr(&oid, sha.c_str()) != 0) return Status::Invalid("bad commit SHA \"" + spec_.ref + "\"");
    if (!ObjectExists(oid)) {
      auto remote = NewRemote();
      if (!remote.ok()) return remote.status();
      phase_ = "fetching";
      CONVERGE_RETURN_IF_ERROR(Fetch(remote->get(), ""));
      if (!ObjectExists(oid)) {
        return Status::NotFound("commit " + sha + " not found in " + shown_url_ +
                                ": it is on no branch or tag there; check the SHA or push it");
      }
    }
    return PeelToCommit(oid, "commit " + sha, commit);
  }

  // A branch, tag, refs/... name or the default branch: ls-remote, then fetch unless the remote's
  // object is already in the cache.
  Status ResolveRef(git_oid* commit) {
    auto remote_or = NewRemote();
    if (!remote_or.ok()) return remote_or.status();
    RemotePtr remote = std::move(remote_or).value();
    git_remote_callbacks cbs = Callbacks();
    git_proxy_options proxy = GIT_PROXY_OPTIONS_INIT;
    proxy.type = GIT_PROXY_AUTO;
    phase_ = "listing its refs";
    if (int rc = git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &cbs, &proxy, nullptr); rc != 0) {
      return NetworkError(rc);
    }
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    if (int rc = git_remote_ls(&heads, &count, remote.get()); rc != 0) return NetworkError(rc);

    auto find = [&](const std::string& name) -> const git_remote_head* {
      for (size_t i = 0; i < count; ++i) {
        if (name == heads[i]->name) return heads[i];
      }
      return nullptr;
    };

    std::string wanted;  // full remote ref name
    if (spec_.ref.empty()) {
      const git_remote_head* head = find("HEAD");
      if (head != nullptr && head->symref_target != nullptr) {
        wanted = head->symref_target;
      } else {
        git_buf buf = GIT_BUF_INIT;
        if (git_remote_default_branch(&buf, remote.get()) == 0) wanted.assign(buf.ptr, buf.size);
        git_buf_dispose(&buf);
      }
      if (wanted.empty()) {
        return Status::NotFound("cannot find the default branch of " + shown_url_ +
                                (count == 0 ? " (the repository is empty)" : "") + ": set a ref (branch, tag or SHA)");
      }
    } else if (StartsWith(spec_.ref, "refs/")) {
      wanted = spec_.ref;
    } else if (find("refs/heads/" + spec_.ref) != nullptr) {
      wanted = "refs/heads/" + spec_.ref;
    } else {
      wanted = "refs/tags/" + spec_.ref;
    }
    const git_remote_head* head = find(wanted);
    if (head == nullptr) {
      return Status::NotFound("ref \"" + ref_label_ + "\" not found in " + shown_url_ +
                              ": it is neither a branch nor a tag there (a commit must be given as a full "
                              "40-character SHA)");
    }
    std::string what = "ref \"" + ref_label_ + "\"";
    if (ObjectExists(head->oid)) {
      git_remote_disconnect(remote.get());
      return PeelToCommit(head->oid, what, commit);
    }

    std::string local;  // where the fetch stores it
    std::string extra_refspec;
    if (StartsWith(wanted, "refs/heads/")) {
      local = "refs/remotes/origin/" + wanted.substr(std::strlen("refs/heads/"));
    } else if (StartsWith(wanted, "refs/tags/")) {
      local = wanted;
    } else {
      local = wanted;  // e.g. refs/pull/1/head
      extra_refspec = "+" + wanted + ":" + wanted;
    }
    phase_ = "fetching";
    CONVERGE_RETURN_IF_ERROR(Fetch(remote.get(), extra_refspec));
    git_oid oid;
    if (git_reference_name_to_id(&oid, repo_.get(), local.c_str()) != 0) {
      return Status::NotFound("ref \"" + ref_label_ + "\" not found in " + shown_url_ +
                              " after fetching it (was it deleted meanwhile?): " + LastGitError());
    }
    return PeelToCommit(oid, what, commit);
  }

  // Fetches every branch and tag (plus `extra_refspec` when set) into the cache.
  Status Fetch(git_remote* remote, const std::string& extra_refspec) {
    std::vector<std::string> specs = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
    if (!extra_refspec.empty()) specs.push_back(extra_refspec);
    std::vector<char*> ptrs;
    for (auto& s : specs) ptrs.push_back(s.data());
    git_strarray refspecs{ptrs.data(), ptrs.size()};

    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks = Callbacks();
    opts.prune = GIT_FETCH_PRUNE;
    opts.update_fetchhead = 0;  // FETCH_HEAD would record the URL, which may hold credentials
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    opts.proxy_opts.type = GIT_PROXY_AUTO;
    if (int rc = git_remote_fetch(remote, &refspecs, &opts, "converge: fetch"); rc != 0) return NetworkError(rc);
    return Status::Ok();
  }

  // The error for a failed connect / ls / fetch, from libgit2's last error and the callbacks.
  Status NetworkError(int rc) {
    std::string msg = Scrub(LastGitError());
    switch (watch_.timed_out()) {
      case source_internal::NetworkTimeout::kConnect:
        return Status::Timeout("connecting to " + shown_url_ + " timed out after " +
                               source_internal::FormatDuration(spec_.connect_timeout_ms) + " (ref " + ref_label_ +
                               "): check that the server is up and reachable, or allow more time with --fetch-timeout");
      case source_internal::NetworkTimeout::kIdle:
        return Status::Timeout("no data from " + shown_url_ + " for " +
                               source_internal::FormatDuration(spec_.idle_timeout_ms) + " while " + phase_ + " (ref " +
                               ref_label_ + "): the server accepted the connection but stopped answering; if it is "
                               "only slow, allow more time with --fetch-timeout");
      case source_internal::NetworkTimeout::kNone:
        break;
    }
    if (creds_.auth_failed || rc == GIT_EAUTH) {
      std::string hint;
      if (StartsWith(url_, "ssh://") || (!IsLocalPath(url_) && url_.find("://") == std::string::npos)) {
        hint = !spec_.ssh_key_env.empty()
                   ? "check the key in $" + spec_.ssh_key_env
                   : "set an ssh key variable (ssh_key_env) or load the key into ssh-agent";
      } else if (spec_.token_env.empty()) {
        hint = "set a token variable (token_env) naming an environment variable that holds a token";
      } else if (creds_.token.empty()) {
        hint = "$" + spec_.token_env + " is empty or unset";
      } else {
        hint = "check the credentials in $" + spec_.token_env;
      }
      return Status::PermissionDenied("authentication failed for " + shown_url_ + " (ref " + ref_label_ + "): " + hint);
    }
    if (rc == GIT_ECERTIFICATE) {
      return Status::Unavailable("certificate check failed for " + shown_url_ + " (ref " + ref_label_ + "): " + msg +
                                     ": check the server's certificate or add its host key to ~/.ssh/known_hosts",
                                 false);
    }
    return Status::Unavailable("cannot fetch " + shown_url_ + " (ref " + ref_label_ + "): " + msg,
                               !IsLocalPath(url_));
  }

  Result<std::unique_ptr<Snapshot>> MakeSnapshot(const git_oid& commit_oid) {
    std::string sha = OidHex(commit_oid);
    std::string where = shown_url_ + "@" + ref_label_ + " (commit " + sha.substr(0, 7) + ")";
    git_commit* commit_raw = nullptr;
    if (git_commit_lookup(&commit_raw, repo_.get(), &commit_oid) != 0) {
      return Status::Corrupt("cannot read commit " + sha + " of " + shown_url_ + " from the cache: " + LastGitError());
    }
    git_tree* tree_raw = nullptr;
    int rc = git_commit_tree(&tree_raw, commit_raw);
    git_commit_free(commit_raw);
    if (rc != 0) {
      return Status::Corrupt("cannot read the tree of " + where + " from the cache: " + LastGitError());
    }
    TreePtr tree(tree_raw);
    git_tree* root_raw = nullptr;
    if (git_tree_dup(&root_raw, tree.get()) != 0) return Status::Internal("cannot copy a tree handle: " + LastGitError());
    TreePtr root(root_raw);

    std::string path = NormalizeTreePath(spec_.path);
    if (!path.empty()) {
      git_tree_entry* entry_raw = nullptr;
      if (git_tree_entry_bypath(&entry_raw, tree.get(), path.c_str()) != 0) {
        return Status::NotFound("path " + path + " not found in " + where + ": check the source's path");
      }
      TreeEntryPtr entry(entry_raw);
      if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
        return Status::Invalid("path " + path + " in " + where + " is a file, not a directory: give its directory");
      }
      git_tree* sub_raw = nullptr;
      if (git_tree_lookup(&sub_raw, repo_.get(), git_tree_entry_id(entry.get())) != 0) {
        return Status::Corrupt("cannot read " + path + " in " + where + " from the cache: " + LastGitError());
      }
      tree.reset(sub_raw);
    }

    std::vector<SourceFile> files;
    WalkState state{path.empty() ? "" : path + "/", &files, {}, {}, {}, {}};
    state.trees[path] = OidHex(*git_tree_id(tree.get()));
    if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, CollectSpecFiles, &state) != 0) {
      return Status::Corrupt("cannot list the files of " + where + ": " + LastGitError());
    }
    std::vector<Diagnostic> warnings;
    CONVERGE_RETURN_IF_ERROR(FollowLinks(&state, root.get(), &warnings));
    for (const std::string& sub : state.submodules) {
      warnings.push_back({sub, 0, 0,
                          "a Git submodule; its files are not read (give its repository a source of its own)"});
    }
    CONVERGE_RETURN_IF_ERROR(AddKustomizations(&state, sha));
    std::sort(files.begin(), files.end(), [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
    return std::unique_ptr<Snapshot>(std::make_unique<GitSnapshot>(std::move(repo_), sha, std::move(files),
                                                                   std::move(warnings),
                                                                   shown_url_ + "@" + sha.substr(0, 7), env_,
                                                                   cache_root_ + "/kustomize",
                                                                   std::exchange(scratch_, std::string())));
  }

  // Symlinks are followed inside the repository: one to a YAML file lists that file's blob under
  // the link's path, one to a directory lists the directory's files under it (links found there
  // are not followed again). A link out of the repository is an error naming both paths; one to
  // nothing is a warning.
  Status FollowLinks(WalkState* state, git_tree* root, std::vector<Diagnostic>* warnings) {
    for (const auto& [link, blob_id] : state->links) {
      Result<std::string> target = ReadBlob(repo_.get(), SourceFile{link, blob_id, ""}, shown_url_);
      if (!target.ok()) return target.status();
      std::string dir = link.find('/') == std::string::npos ? "" : link.substr(0, link.rfind('/'));
      Result<std::string> resolved =
          target->empty() || (*target)[0] == '/' ? Result<std::string>(Status::Invalid("absolute"))
                                                 : NormalizeSourcePath(dir.empty() ? *target : dir + "/" + *target);
      if (!resolved.ok()) {
        return Status::Invalid(link + " is a symlink to " + *target +
                               ", which is outside the repository: converge reads only the repository's own files; "
                               "copy the file in or point the link inside");
      }
      git_tree_entry* raw = nullptr;
      if (resolved->empty() || git_tree_entry_bypath(&raw, root, resolved->c_str()) != 0) {
        warnings->push_back({link, 0, 0, "a symlink to " + *target + ", which does not exist in this commit; skipped"});
        continue;
      }
      TreeEntryPtr entry(raw);
      if (git_tree_entry_type(entry.get()) == GIT_OBJECT_BLOB) {
        git_filemode_t mode = git_tree_entry_filemode(entry.get());
        bool yaml = EndsWith(link, ".yaml") || EndsWith(link, ".yml");
        if (yaml && (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)) {
          state->files->push_back(SourceFile{link, OidHex(*git_tree_entry_id(entry.get())), ""});
        }
        continue;
      }
      if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) continue;
      git_tree* sub_raw = nullptr;
      if (git_tree_lookup(&sub_raw, repo_.get(), git_tree_entry_id(entry.get())) != 0) {
        return Status::Corrupt("cannot read " + *resolved + " from the cache: " + LastGitError());
      }
      TreePtr sub(sub_raw);
      WalkState inner{link + "/", state->files, {}, {}, {}, {}};
      if (git_tree_walk(sub.get(), GIT_TREEWALK_PRE, CollectSpecFiles, &inner) != 0) {
        return Status::Corrupt("cannot list " + *resolved + ": " + LastGitError());
      }
    }
    return Status::Ok();
  }

  // Kustomize directories replace their files: each one no other kustomization uses becomes one
  // file, its rendered output, keyed by what the output depends on.
  Status AddKustomizations(WalkState* state, const std::string& commit) {
    if (state->kustomizations.empty()) return Status::Ok();
    std::set<std::string> dirs, used;
    std::map<std::string, std::vector<std::string>> refs;  // kustomization dir -> what it uses
    std::set<std::string> loose;                            // mentions `..` outside its references
    for (const KustomizationFile& k : state->kustomizations) {
      if (!dirs.insert(k.dir).second) {
        return Status::Invalid("directory " + (k.dir.empty() ? "(the root)" : k.dir) +
                               " has more than one kustomization file: keep one of kustomization.yaml, "
                               "kustomization.yml, Kustomization");
      }
      SourceFile blob{k.dir.empty() ? k.name : k.dir + "/" + k.name, k.blob_id, ""};
      Result<std::string> text = ReadBlob(repo_.get(), blob, shown_url_);
      if (!text.ok()) return text.status();
      if (ReachesOutsideItsReferences(*text)) loose.insert(k.dir);
      refs[k.dir] = KustomizationReferences(k.dir, *text);
      for (const std::string& ref : refs[k.dir]) used.insert(ref);
    }
    std::vector<SourceFile>& files = *state->files;
    files.erase(std::remove_if(files.begin(), files.end(),
                               [&](const SourceFile& f) {
                                 for (const std::string& d : dirs)
                                   if (InsideDir(f.path, d)) return true;
                                 return false;
                               }),
                files.end());
    for (const KustomizationFile& k : state->kustomizations) {
      if (used.count(k.dir)) continue;  // rendered as part of the kustomization that uses it
      // The render key: the trees of the directory and of every directory it uses, transitively;
      // a reference that is not such a tree (a file, or a place outside the spec path) makes it
      // the commit's.
      std::string deps;
      bool exact = true;
      std::set<std::string> seen;
      std::vector<std::pair<std::string, std::string>> todo = {{k.dir, k.dir}};  // (path, used by)
      while (!todo.empty() && exact) {
        auto [d, from] = todo.back();
        todo.pop_back();
        if (!seen.insert(d).second) continue;
        auto tree = state->trees.find(d);
        if (tree == state->trees.end()) {
          exact = InsideDir(d, from);  // a file of the directory that uses it is in that tree
          continue;
        }
        deps += d + "=" + tree->second + "\n";
        if (loose.count(d)) exact = false;
        for (const std::string& r : refs[d]) todo.emplace_back(r, d);
      }
      std::string key = exact ? Sha256Hex("kustomize/1\n" + deps).substr(0, 40)
                              : Sha256Hex("kustomize/1\ncommit " + commit + "\n" + k.dir).substr(0, 40);
      files.push_back(SourceFile{k.dir.empty() ? k.name : k.dir + "/" + k.name, key, k.dir.empty() ? "." : k.dir});
    }
    return Status::Ok();
  }

  // Removes anything secret (the token, a password in the URL) from a libgit2 message.
  std::string Scrub(std::string msg) const {
    auto replace_all = [&msg](const std::string& from, const std::string& to) {
      if (from.empty()) return;
      for (size_t pos = msg.find(from); pos != std::string::npos; pos = msg.find(from, pos + to.size())) {
        msg.replace(pos, from.size(), to);
      }
    };
    if (url_ != shown_url_) replace_all(url_, shown_url_);
    replace_all(creds_.token, "***");
    replace_all(creds_.passphrase, "***");
    replace_all(url_password_, "***");
    return msg;
  }

  const SourceSpec& spec_;
  std::string cache_root_;
  Env* env_;
  std::string url_;        // what libgit2 is given (may hold credentials)
  std::string shown_url_;  // for messages and the cache key
  std::string ref_label_;
  std::string url_password_;
  CredentialState creds_;
  source_internal::NetworkWatch watch_;  // outlives every remote (and so every socket) of the fetch
  std::string scratch_;  // the temporary cache (OpenScratchCache) until a snapshot takes it
  std::string phase_ = "listing its refs";  // what the network calls are doing, for timeout messages
  RepoPtr repo_;
};

}  // namespace

Result<std::unique_ptr<Snapshot>> FetchSource(const SourceSpec& spec, const std::string& cache_root, Env* env) {
  if (spec.url.empty()) return Status::Invalid("the source has no repository URL: set its repo (URL or path)");
  if (cache_root.empty()) return Status::Invalid("no cache directory for " + RedactUrl(spec.url));
  if (spec.connect_timeout_ms <= 0 || spec.idle_timeout_ms <= 0) {
    return Status::Invalid("the fetch timeouts of " + RedactUrl(spec.url) + " must be positive");
  }
  InitLibgit2();
  SourceFetch fetch(spec, cache_root, env != nullptr ? env : Env::Default());
  return fetch.Run();
}

std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;  // a path, or scp-like user@host:path (no password)
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end - 1);
  if (at == std::string::npos || at < start) return url;
  std::string userinfo = url.substr(start, at - start);
  std::string scheme_name = url.substr(0, scheme);
  // ssh://git@host keeps its (non-secret) user name; a user name alone over http(s) may be a token.
  if (userinfo.find(':') == std::string::npos && scheme_name == "ssh") return url;
  return url.substr(0, start) + url.substr(at + 1);
}

}  // namespace converge
