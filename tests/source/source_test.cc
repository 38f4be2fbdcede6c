// FetchSource against real repositories: local paths, file:// and git:// through `git daemon` on
// loopback; ref resolution, path filtering, the persistent cache, and error messages.
#include "engine/source/source.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "engine/base/env.h"
#include "tests/testing/git_fixture.h"
#include "tests/testing/stalling_server.h"

namespace converge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::GitDaemon;
using testing::GitRepo;
using testing::RunCommand;
using testing::ShellQuote;
using testing::StallingServer;
using testing::TempDir;

// An Env whose variables come from a map (no setenv in tests).
class VarEnv : public EnvWrapper {
 public:
  VarEnv() : EnvWrapper(Env::Default()) {}
  std::string GetVar(const std::string& name) override {
    auto it = vars.find(name);
    return it == vars.end() ? "" : it->second;
  }
  std::map<std::string, std::string> vars;
};

std::vector<std::string> Paths(const Snapshot& s) {
  std::vector<std::string> out;
  for (const auto& f : s.files()) out.push_back(f.path);
  return out;
}

class SourceTest : public ::testing::Test {
 protected:
  SourceTest()
      : repos_(tmp_.Join("repos")), cache_(tmp_.Join("cache")), repo_(GitRepo::Init(repos_ + "/fleet", "main")) {}

  Result<std::unique_ptr<Snapshot>> Fetch(const std::string& url, const std::string& ref = "",
                                          const std::string& path = "") {
    SourceSpec spec;
    spec.url = url;
    spec.ref = ref;
    spec.path = path;
    return FetchSource(spec, cache_, &env_);
  }

  // The single cache repository under cache_.
  std::string CacheDir() {
    std::vector<std::string> dirs;
    for (const auto& e : std::filesystem::directory_iterator(cache_)) {
      if (e.is_directory() && e.path().extension() == ".git") dirs.push_back(e.path().string());
    }
    EXPECT_EQ(dirs.size(), 1u);
    return dirs.empty() ? "" : dirs[0];
  }

  // The commit `ref` names in the cache, or "" when it does not exist there.
  std::string CacheRef(const std::string& ref) {
    int code = -1;
    std::string out = RunCommand("git --git-dir=" + ShellQuote(CacheDir()) + " rev-parse -q --verify " +
                                     ShellQuote(ref + "^{commit}"),
                                 &code);
    if (code != 0) return "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  std::string Url() { return repo_.path(); }

  TempDir tmp_;
  std::string repos_;
  std::string cache_;
  GitRepo repo_;
  VarEnv env_;
};

TEST_F(SourceTest, LocalPathDefaultBranchListsOnlyYamlFilesSorted) {
  repo_.WriteFile("b.yml", "b: 1\n");
  repo_.WriteFile("a.yaml", "a: 1\n");
  repo_.WriteFile("apps/web/cm.yaml", "kind: ConfigMap\n");
  repo_.WriteFile("README.md", "# fleet\n");
  repo_.WriteFile("values.json", "{}\n");
  repo_.WriteFile("notyaml.yaml.txt", "x\n");
  std::string head = repo_.Commit("first");

  auto snap = Fetch(Url());
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->commit(), head);
  EXPECT_EQ(Paths(**snap), (std::vector<std::string>{"a.yaml", "apps/web/cm.yaml", "b.yml"}));
  auto content = (*snap)->Read((*snap)->files()[1]);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "kind: ConfigMap\n");
  // The blob id is git's own object id for the content.
  std::string blob = RunCommand("git -C " + ShellQuote(repo_.path()) + " rev-parse HEAD:apps/web/cm.yaml", nullptr);
  EXPECT_EQ((*snap)->files()[1].blob_id + "\n", blob);
}

TEST_F(SourceTest, RelativePathAndFileUrlWork) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  std::string head = repo_.Commit("first");

  std::string rel = std::filesystem::relative(repo_.path(), std::filesystem::current_path()).string();
  auto by_rel = Fetch(rel, "main");
  ASSERT_TRUE(by_rel.ok()) << by_rel.status().ToString();
  EXPECT_EQ((*by_rel)->commit(), head);

  auto by_file_url = Fetch("file://" + repo_.path(), "main");
  ASSERT_TRUE(by_file_url.ok()) << by_file_url.status().ToString();
  EXPECT_EQ((*by_file_url)->commit(), head);
  EXPECT_EQ(Paths(**by_file_url), std::vector<std::string>{"a.yaml"});
}

TEST_F(SourceTest, GitDaemonResolvesBranchTagsAndSha) {
  repo_.WriteFile("app.yaml", "version: 1\n");
  std::string first = repo_.Commit("v1");
  repo_.Tag("v1");                        // lightweight
  repo_.Tag("v1-annotated", "release 1");  // annotated: must peel to the commit
  repo_.Branch("dev");
  repo_.Checkout("dev");
  repo_.WriteFile("app.yaml", "version: dev\n");
  std::string dev = repo_.Commit("dev work");
  repo_.Checkout("main");
  repo_.WriteFile("app.yaml", "version: 2\n");
  std::string second = repo_.Commit("v2");

  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");

  struct Case {
    std::string ref;
    std::string commit;
    std::string content;
  };
  for (const Case& c : std::vector<Case>{{"", second, "version: 2\n"},
                                         {"main", second, "version: 2\n"},
                                         {"dev", dev, "version: dev\n"},
                                         {"v1", first, "version: 1\n"},
                                         {"v1-annotated", first, "version: 1\n"},
                                         {"refs/heads/dev", dev, "version: dev\n"},
                                         {"refs/tags/v1-annotated", first, "version: 1\n"},
                                         {first, first, "version: 1\n"}}) {
    SCOPED_TRACE("ref=" + c.ref);
    auto snap = Fetch(url, c.ref);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ((*snap)->commit(), c.commit);
    ASSERT_EQ((*snap)->files().size(), 1u);
    EXPECT_EQ(*(*snap)->Read((*snap)->files()[0]), c.content);
  }
}

TEST_F(SourceTest, DefaultBranchFollowsRemoteHead) {
  GitRepo trunk = GitRepo::Init(repos_ + "/trunk", "trunk");
  trunk.WriteFile("a.yaml", "a: 1\n");
  std::string head = trunk.Commit("first");
  trunk.Branch("other");

  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  for (const std::string& url : {daemon.url("trunk"), trunk.path()}) {
    SCOPED_TRACE(url);
    auto snap = Fetch(url);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ((*snap)->commit(), head);
  }
}

TEST_F(SourceTest, PathSelectsSubdirectoryWithRepoRelativePaths) {
  repo_.WriteFile("top.yaml", "t: 1\n");
  repo_.WriteFile("apps/web.yaml", "w: 1\n");
  repo_.WriteFile("apps/api/deploy.yml", "d: 1\n");
  repo_.WriteFile("apps/api/notes.txt", "n\n");
  repo_.WriteFile("apps2/other.yaml", "o: 1\n");
  repo_.Commit("layout");

  for (const char* path : {"apps", "./apps/", "/apps"}) {
    SCOPED_TRACE(std::string(path));
    auto snap = Fetch(Url(), "main", path);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(Paths(**snap), (std::vector<std::string>{"apps/api/deploy.yml", "apps/web.yaml"}));
    EXPECT_EQ(*(*snap)->Read((*snap)->files()[0]), "d: 1\n");
  }
  auto nested = Fetch(Url(), "main", "apps/api");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ(Paths(**nested), std::vector<std::string>{"apps/api/deploy.yml"});
  auto whole = Fetch(Url(), "main", ".");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ((*whole)->files().size(), 4u);
}

TEST_F(SourceTest, MissingPathIsNotFoundNamingUrlRefAndCommit) {
  repo_.WriteFile("apps/web.yaml", "w: 1\n");
  std::string head = repo_.Commit("first");
  auto snap = Fetch(Url(), "main", "clusters");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kNotFound);
  EXPECT_THAT(snap.status().message(),
              HasSubstr("path clusters not found in " + Url() + "@main (commit " + head.substr(0, 7) + ")"));

  auto file = Fetch(Url(), "main", "apps/web.yaml");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Code::kInvalid);
  EXPECT_THAT(file.status().message(), HasSubstr("not a directory"));
}

TEST_F(SourceTest, RefetchSeesNewCommitsAndOldSnapshotsStayReadable) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  std::string first = repo_.Commit("first");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");

  auto one = Fetch(url, "main");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ((*one)->commit(), first);

  repo_.WriteFile("b.yaml", "b: 1\n");
  repo_.WriteFile("a.yaml", "a: 2\n");
  std::string second = repo_.Commit("second");
  auto two = Fetch(url, "main");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ((*two)->commit(), second);
  EXPECT_EQ(Paths(**two), (std::vector<std::string>{"a.yaml", "b.yaml"}));
  EXPECT_EQ(*(*two)->Read((*two)->files()[0]), "a: 2\n");
  EXPECT_EQ(CacheRef("refs/remotes/origin/main"), second);

  // The first snapshot still reads its own commit's content.
  EXPECT_EQ(*(*one)->Read((*one)->files()[0]), "a: 1\n");
}

TEST_F(SourceTest, UnchangedRemoteIsNotDownloadedAgain) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  std::string first = repo_.Commit("first");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");
  ASSERT_TRUE(Fetch(url, "main").ok());
  ASSERT_EQ(CacheRef("refs/remotes/origin/main"), first);

  // Remove the cache's tracking ref: a fetch would write it back, ls-remote alone does not.
  RunCommand("git --git-dir=" + ShellQuote(CacheDir()) + " update-ref -d refs/remotes/origin/main", nullptr);
  auto again = Fetch(url, "main");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->commit(), first);
  EXPECT_EQ(CacheRef("refs/remotes/origin/main"), "");

  // Once the remote moves, the fetch happens and the ref is back.
  std::string second = repo_.Commit("second");
  auto moved = Fetch(url, "main");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ((*moved)->commit(), second);
  EXPECT_EQ(CacheRef("refs/remotes/origin/main"), second);
}

TEST_F(SourceTest, ShaInCacheNeedsNoNetwork) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  std::string head = repo_.Commit("first");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");
  ASSERT_TRUE(Fetch(url, "main").ok());
  daemon.Stop();

  auto by_sha = Fetch(url, head);
  ASSERT_TRUE(by_sha.ok()) << by_sha.status().ToString();
  EXPECT_EQ((*by_sha)->commit(), head);
  EXPECT_EQ(*(*by_sha)->Read((*by_sha)->files()[0]), "a: 1\n");

  // A branch needs ls-remote, so it fails now: the SHA above really did not touch the network.
  auto by_branch = Fetch(url, "main");
  ASSERT_FALSE(by_branch.ok());
  EXPECT_EQ(by_branch.status().code(), Code::kUnavailable);
}

TEST_F(SourceTest, ShaMissingFromCacheIsFetchedAndUnknownShaIsNotFound) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  repo_.Commit("first");
  repo_.Branch("side");
  repo_.Checkout("side");
  std::string side = repo_.Commit("on side");
  repo_.Checkout("main");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");

  std::string upper = side;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto snap = Fetch(url, upper);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->commit(), side);

  std::string unknown(40, 'a');
  auto missing = Fetch(url, unknown);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("commit " + unknown + " not found in " + url));
}

TEST_F(SourceTest, UnknownRefIsNotFound) {
  repo_.Commit("first");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("fleet");
  auto snap = Fetch(url, "nope");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kNotFound);
  EXPECT_THAT(snap.status().message(), HasSubstr("ref \"nope\" not found in " + url));

  auto local = Fetch(Url(), "abc1234");  // a short SHA is not a ref
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), Code::kNotFound);
  EXPECT_THAT(local.status().message(), HasSubstr("full 40-character SHA"));
}

TEST_F(SourceTest, UnreachableRepoIsUnavailableNamingUrlAndRef) {
  std::string url = "git://127.0.0.1:" + std::to_string(testing::UnusedLocalPort()) + "/nope.git";
  auto snap = Fetch(url, "main");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kUnavailable);
  EXPECT_TRUE(snap.status().retryable());
  EXPECT_THAT(snap.status().message(), HasSubstr("cannot fetch " + url + " (ref main): "));
  EXPECT_EQ(snap.status().message().find('\n'), std::string::npos);
}

TEST_F(SourceTest, RepoNotExportedByDaemonIsUnavailable) {
  repo_.Commit("first");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  std::string url = daemon.url("missing");
  auto snap = Fetch(url, "main");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kUnavailable);
  EXPECT_THAT(snap.status().message(), HasSubstr("cannot fetch " + url + " (ref main): "));
}

TEST_F(SourceTest, MissingLocalPathIsNotFound) {
  auto snap = Fetch(tmp_.Join("no-such-repo"), "main");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kNotFound);
  EXPECT_THAT(snap.status().message(), HasSubstr(tmp_.Join("no-such-repo")));
}

TEST_F(SourceTest, OneCacheRepositoryPerUrl) {
  repo_.WriteFile("a.yaml", "a: 1\n");
  repo_.Commit("first");
  ASSERT_TRUE(Fetch(Url(), "main").ok());
  ASSERT_TRUE(Fetch(Url(), "main", "apps").status().IsNotFound());  // same URL, other path
  ASSERT_TRUE(Fetch(Url() + "/", "").ok());                        // same repository, normalised
  EXPECT_FALSE(CacheDir().empty());  // exactly one

  GitRepo other = GitRepo::Init(repos_ + "/other", "main");
  other.Commit("first");
  ASSERT_TRUE(Fetch(other.path(), "main").ok());
  int git_dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache_)) git_dirs += e.path().extension() == ".git";
  EXPECT_EQ(git_dirs, 2);
}

void FetchConcurrently(int threads) {
  TempDir tmp;
  std::vector<GitRepo> repos;
  std::vector<std::string> heads;
  for (int i = 0; i < 2; ++i) {
    repos.push_back(GitRepo::Init(tmp.Join("repos/r" + std::to_string(i)), "main"));
    repos.back().WriteFile("a.yaml", "repo: " + std::to_string(i) + "\n");
    heads.push_back(repos.back().Commit("first"));
  }
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(tmp.Join("repos")));
  std::string cache = tmp.Join("cache");
  std::atomic<int> ok{0};
  std::vector<std::thread> pool;
  const int kPerThread = 3;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        int i = (t + k) % 2;
        SourceSpec spec;
        spec.url = daemon.url("r" + std::to_string(i));
        spec.ref = "main";
        auto snap = FetchSource(spec, cache, Env::Default());
        if (snap.ok() && (*snap)->commit() == heads[i] && (*snap)->files().size() == 1 &&
            *(*snap)->Read((*snap)->files()[0]) == "repo: " + std::to_string(i) + "\n") {
          ++ok;
        } else if (!snap.ok()) {
          ADD_FAILURE() << snap.status().ToString();
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(ok.load(), threads * kPerThread);
}

TEST(SourceConcurrencyTest, SameAndDifferentUrls1Thread) { FetchConcurrently(1); }
TEST(SourceConcurrencyTest, SameAndDifferentUrls2Threads) { FetchConcurrently(2); }
TEST(SourceConcurrencyTest, SameAndDifferentUrls4Threads) { FetchConcurrently(4); }

TEST(RedactUrlTest, RemovesCredentials) {
  EXPECT_EQ(RedactUrl("https://user:secret@example.com/org/repo.git"), "https://example.com/org/repo.git");
  EXPECT_EQ(RedactUrl("https://ghp_token@example.com/org/repo.git"), "https://example.com/org/repo.git");
  EXPECT_EQ(RedactUrl("http://u:p@127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(RedactUrl("ssh://git:pw@host/repo.git"), "ssh://host/repo.git");
  EXPECT_EQ(RedactUrl("ssh://git@host/repo.git"), "ssh://git@host/repo.git");
  EXPECT_EQ(RedactUrl("https://example.com/a@b/repo.git"), "https://example.com/a@b/repo.git");
  EXPECT_EQ(RedactUrl("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
  EXPECT_EQ(RedactUrl("/srv/git/repo"), "/srv/git/repo");
  EXPECT_EQ(RedactUrl("file:///srv/git/repo"), "file:///srv/git/repo");
}

TEST_F(SourceTest, SecretsNeverAppearInErrors) {
  env_.vars["CONVERGE_TEST_TOKEN"] = "tok-very-secret-123";
  int port = testing::UnusedLocalPort();
  SourceSpec spec;
  spec.url = "http://user:pa55word@127.0.0.1:" + std::to_string(port) + "/fleet.git";
  spec.ref = "main";
  spec.token_env = "CONVERGE_TEST_TOKEN";
  auto snap = FetchSource(spec, cache_, &env_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kUnavailable);
  EXPECT_THAT(snap.status().message(), HasSubstr("http://127.0.0.1:" + std::to_string(port) + "/fleet.git"));
  EXPECT_THAT(snap.status().message(), Not(HasSubstr("pa55word")));
  EXPECT_THAT(snap.status().message(), Not(HasSubstr("tok-very-secret-123")));
}

// An HTTP server on loopback that answers every request with 401, counting requests and
// remembering the Authorization headers it saw.
class UnauthorizedServer {
 public:
  UnauthorizedServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot start the test HTTP server";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~UnauthorizedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }
  int with_auth() const { return with_auth_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 2000) <= 0) break;
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      ++requests_;
      if (req.find("Authorization: Basic") != std::string::npos) ++with_auth_;
      std::string resp =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n"
          "Connection: close\r\n\r\n";
      ssize_t w = send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      (void)w;
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> with_auth_{0};
  std::thread thread_;
};

TEST_F(SourceTest, RejectedTokenIsPermissionDeniedAfterOneAttempt) {
  UnauthorizedServer server;
  env_.vars["CONVERGE_TEST_TOKEN"] = "tok-very-secret-123";
  SourceSpec spec;
  spec.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/fleet.git";
  spec.ref = "main";
  spec.token_env = "CONVERGE_TEST_TOKEN";
  auto snap = FetchSource(spec, cache_, &env_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kPermissionDenied);
  EXPECT_THAT(snap.status().message(), HasSubstr("authentication failed for " + spec.url));
  EXPECT_THAT(snap.status().message(), HasSubstr("$CONVERGE_TEST_TOKEN"));
  EXPECT_THAT(snap.status().message(), Not(HasSubstr("tok-very-secret-123")));
  EXPECT_EQ(server.with_auth(), 1);  // the token was offered once, not in a loop
  EXPECT_LE(server.requests(), 3);

  // No token configured: the message says what to set.
  SourceSpec bare = spec;
  bare.token_env.clear();
  auto no_token = FetchSource(bare, cache_, &env_);
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), Code::kPermissionDenied);
  EXPECT_THAT(no_token.status().message(), HasSubstr("token_env"));

  // A token variable that is unset.
  SourceSpec unset = spec;
  unset.token_env = "CONVERGE_TEST_UNSET";
  auto empty = FetchSource(unset, cache_, &env_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), Code::kPermissionDenied);
  EXPECT_THAT(empty.status().message(), HasSubstr("$CONVERGE_TEST_UNSET is empty or unset"));
}

// Every network wait has a deadline: a server that accepts and never answers, answers part of
// a reply and stalls, or never accepts, fails the fetch with Timeout naming the URL and what
// timed out, after the configured time (the timeout itself is the test's only wait).
class FetchDeadlineTest : public SourceTest {
 protected:
  Result<std::unique_ptr<Snapshot>> FetchWithin(const std::string& url, int64_t ms) {
    SourceSpec spec;
    spec.url = url;
    spec.connect_timeout_ms = ms;
    spec.idle_timeout_ms = ms;
    return FetchSource(spec, cache_, &env_);
  }
};

TEST_F(FetchDeadlineTest, SilentGitServerTimesOutWhileListingRefs) {
  StallingServer server(StallingServer::Mode::kSilent);
  auto snap = FetchWithin(server.url("git"), 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(),
              HasSubstr("no data from " + server.url("git") + " for 300 ms while listing its refs"));
}

TEST_F(FetchDeadlineTest, PartialGitReplyThenSilenceTimesOut) {
  // The start of a ref advertisement: a pkt-line announcing 0x32 bytes, of which a few arrive.
  StallingServer server(StallingServer::Mode::kPartialReply, "0032a1b2c3d4");
  auto snap = FetchWithin(server.url("git"), 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("no data from " + server.url("git") + " for 300 ms"));
}

TEST_F(FetchDeadlineTest, SilentAndStalledHttpServersTimeOut) {
  StallingServer silent(StallingServer::Mode::kSilent);
  auto snap = FetchWithin(silent.url("http"), 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("no data from " + silent.url("http") + " for 300 ms"));

  StallingServer partial(StallingServer::Mode::kPartialReply,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n");
  snap = FetchWithin(partial.url("http"), 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("no data from " + partial.url("http") + " for 300 ms"));
}

TEST_F(FetchDeadlineTest, ServerThatNeverAcceptsTimesOutConnecting) {
  StallingServer server(StallingServer::Mode::kNeverAccept);
  auto snap = FetchWithin(server.url("git"), 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("connecting to " + server.url("git") + " timed out after 300 ms"));
}

TEST_F(FetchDeadlineTest, SilentSshServerTimesOut) {
  // libssh2 reads the socket itself; the idle watchdog shuts it down. The server never sends
  // its SSH banner, so the handshake waits for the first byte.
  StallingServer server(StallingServer::Mode::kSilent);
  std::string url = "ssh://git@127.0.0.1:" + std::to_string(server.port()) + "/x";
  Result<std::unique_ptr<Snapshot>> snap = Status::Internal("not run");
  {
#if defined(__SANITIZE_ADDRESS__)
    // libgit2 1.5.1 leaks 32 bytes whenever an ssh session fails to start, for any reason.
    __lsan::ScopedDisabler libgit2_ssh_leak;
#endif
    snap = FetchWithin(url, 300);
  }
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("no data from " + url + " for 300 ms while listing its refs"));
}

TEST_F(FetchDeadlineTest, TimeoutMessagesKeepCredentialsOut) {
  StallingServer server(StallingServer::Mode::kSilent);
  std::string url = "http://user:hunter2-secret@127.0.0.1:" + std::to_string(server.port()) + "/x";
  auto snap = FetchWithin(url, 300);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kTimeout);
  EXPECT_THAT(snap.status().message(), HasSubstr("no data from " + server.url("http")));
  EXPECT_THAT(snap.status().message(), Not(HasSubstr("hunter2-secret")));
}

TEST_F(FetchDeadlineTest, NonPositiveTimeoutsAreInvalid) {
  SourceSpec spec;
  spec.url = repo_.path();
  spec.idle_timeout_ms = 0;
  auto snap = FetchSource(spec, cache_, &env_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kInvalid);
}

TEST_F(FetchDeadlineTest, ServedRepositoryStillFetchesWithShortTimeouts) {
  repo_.WriteFile("a.yaml", "kind: A\n");
  std::string head = repo_.Commit("one");
  GitDaemon daemon;
  ASSERT_TRUE(daemon.Start(repos_));
  auto snap = FetchWithin(daemon.url("fleet"), 5000);
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ((*snap)->commit(), head);
}

}  // namespace
}  // namespace converge
