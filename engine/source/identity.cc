#include "engine/source/identity.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "engine/source/source.h"

namespace converge {

namespace {

namespace fs = std::filesystem;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool HasScheme(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return false;
  for (size_t i = 0; i < sep; i++) {
    unsigned char c = url[i];
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// "host:path" or "user@host:path" (git's scp-like syntax): a colon before any slash.
bool IsScpLike(const std::string& url) {
  if (HasScheme(url)) return false;
  size_t colon = url.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  size_t slash = url.find('/');
  return slash == std::string::npos || slash > colon;
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Trailing "/" and ".git" of a remote path ("/org/repo.git/" -> "/org/repo").
std::string TrimRemotePath(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.size() > 4 && p.compare(p.size() - 4, 4, ".git") == 0) p.resize(p.size() - 4);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// An absolute local path made canonical: symlinks and ".." resolved where the path exists, the
// rest lexically normal, no trailing slash; a work tree's ".git" directory names the work tree.
std::string CanonicalLocal(const fs::path& absolute) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(absolute, ec);
  if (ec) p = absolute.lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.size() > 5 && s.compare(s.size() - 5, 5, "/.git") == 0) s.resize(s.size() - 5);
  return s;
}

std::string NormalizeRemote(const std::string& url) {
  size_t sep = url.find("://");
  std::string scheme = Lower(url.substr(0, sep));
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  std::string authority = url.substr(start, end - start);
  std::string rest = url.substr(end);
  std::string userinfo;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string host = Lower(authority);
  std::string port;
  if (size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  const bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443") ||
                            (scheme == "ssh" && port == "22") || (scheme == "git" && port == "9418");
  if (default_port) port.clear();
  std::string hostport = host + (port.empty() ? "" : ":" + port);
  // Only the path is trimmed; a query or fragment (rare for Git) is kept as written.
  size_t q = rest.find_first_of("?#");
  std::string path = TrimRemotePath(rest.substr(0, q));
  std::string tail = q == std::string::npos ? "" : rest.substr(q);
  std::string user = userinfo.substr(0, userinfo.find(':'));
  // A user name alone is kept over ssh (git@...); over http(s) a user part may be a token.
  std::string shown_user = scheme == "ssh" && userinfo.find(':') == std::string::npos ? user : "";
  return scheme + "://" + (shown_user.empty() ? "" : shown_user + "@") + hostport + path + tail;
}

}  // namespace

Result<std::string> NormalizeSourcePath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      if (parts.empty()) {
        return Status::Invalid("--path \"" + path + "\" leaves the repository: give a directory inside it");
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

Result<SourceIdentity> IdentifySource(const std::string& url, const std::string& path, const std::string& cwd) {
  if (url.empty()) return Status::Invalid("--repo is empty: give a repository path or URL");
  Result<std::string> sub = NormalizeSourcePath(path);
  if (!sub.ok()) return sub.status();
  SourceIdentity out;
  out.path = *sub;
  std::string scheme = HasScheme(url) ? Lower(url.substr(0, url.find("://"))) : "";
  if (scheme == "file" || (scheme.empty() && !IsScpLike(url))) {
    std::string local = url;
    if (scheme == "file") {
      local = PercentDecode(url.substr(url.find("://") + 3));
      if (local.rfind("localhost/", 0) == 0) local = local.substr(9);
      if (local.empty() || local[0] != '/') {
        return Status::Invalid("--repo " + RedactUrl(url) + ": a file:// URL needs an absolute path (file:///path)");
      }
    }
    fs::path p(local);
    if (p.is_relative()) {
      std::error_code ec;
      fs::path base = cwd.empty() ? fs::current_path(ec) : fs::path(cwd);
      if (ec) return Status::Unavailable("cannot resolve --repo " + url + ": the working directory is gone");
      p = base / p;
    }
    std::string canonical = CanonicalLocal(p);
    out.url = "file://" + canonical;
    out.fetch_url = canonical;
    return out;
  }
  if (scheme.empty()) {  // scp-like: [user@]host:path
    size_t colon = url.find(':');
    std::string who = url.substr(0, colon);
    std::string rest = url.substr(colon + 1);
    std::string user, host = who;
    if (size_t at = who.rfind('@'); at != std::string::npos) {
      user = who.substr(0, at);
      host = who.substr(at + 1);
    }
    std::string p = TrimRemotePath(rest.empty() || rest[0] != '/' ? "/" + rest : rest);
    out.url = "ssh://" + (user.empty() ? "" : user + "@") + Lower(host) + p;
    out.fetch_url = url;  // "host:repo" is relative to the home directory; ssh://host/repo is not
    return out;
  }
  out.url = NormalizeRemote(url);
  out.fetch_url = url;  // servers differ on whether "repo" finds "repo.git": fetch what was typed
  return out;
}

std::string NormalizeRecordedUrl(const std::string& url, bool* resolved) {
  *resolved = true;
  bool local = !HasScheme(url) && !IsScpLike(url);
  if (local && !url.empty() && url[0] != '/') {
    *resolved = false;
    return url;
  }
  Result<SourceIdentity> id = IdentifySource(url, "", "/");
  if (!id.ok()) {
    *resolved = false;
    return url;
  }
  return id->url;
}

}  // namespace converge
