// Source identity: every spelling of one repository (and of one directory in it) is one source.
#include "engine/source/identity.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using testing::TempDir;

std::string Url(const std::string& url, const std::string& cwd = "/") {
  Result<SourceIdentity> id = IdentifySource(url, "", cwd);
  EXPECT_TRUE(id.ok()) << url << ": " << id.status().ToString();
  return id.ok() ? id->url : "";
}

std::string Path(const std::string& path) {
  Result<SourceIdentity> id = IdentifySource("/r", path, "/");
  EXPECT_TRUE(id.ok()) << path << ": " << id.status().ToString();
  return id.ok() ? id->path : "";
}

TEST(SourceIdentityTest, LocalSpellingsOfOneRepositoryAreOne) {
  TempDir tmp;
  std::string repo = tmp.Join("repo");
  std::filesystem::create_directories(repo + "/.git");
  std::filesystem::create_directory_symlink(repo, tmp.Join("link"));
  const std::string want = "file://" + std::filesystem::canonical(repo).string();
  for (const std::string& spelling :
       {std::string("repo"), std::string("./repo"), std::string("repo/"), std::string("./repo/.git"), repo,
        repo + "/", repo + "//", "file://" + repo, "file://" + repo + "/", "file://localhost" + repo,
        tmp.Join("link"), tmp.Join("x/../repo")}) {
    EXPECT_EQ(Url(spelling, tmp.path()), want) << spelling;
  }
  Result<SourceIdentity> id = IdentifySource("./repo", "", tmp.path());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->fetch_url, std::filesystem::canonical(repo).string()) << "libgit2 fetches the canonical path";
}

TEST(SourceIdentityTest, RelativePathsResolveAgainstTheirDirectory) {
  TempDir a, b;
  EXPECT_NE(Url("repo", a.path()), Url("repo", b.path())) << "the same word in two directories is two repositories";
  EXPECT_EQ(Url("repo", a.path()), "file://" + std::filesystem::weakly_canonical(a.Join("repo")).string());
}

TEST(SourceIdentityTest, BareRepositoryKeepsItsGitSuffix) {
  EXPECT_EQ(Url("/srv/fleet.git"), "file:///srv/fleet.git");
  EXPECT_NE(Url("/srv/fleet.git"), Url("/srv/fleet"));
}

TEST(SourceIdentityTest, RemoteUrlsNormalize) {
  const std::string want = "https://github.com/Org/Fleet";
  for (const char* spelling :
       {"https://github.com/Org/Fleet", "https://github.com/Org/Fleet.git", "https://github.com/Org/Fleet/",
        "https://github.com/Org/Fleet.git/", "HTTPS://GitHub.COM/Org/Fleet", "https://github.com:443/Org/Fleet",
        "https://user:s3cret@github.com/Org/Fleet.git", "https://token@github.com/Org/Fleet"}) {
    EXPECT_EQ(Url(spelling), want) << spelling;
  }
  EXPECT_NE(Url("https://github.com/org/fleet"), want) << "path case is the server's to decide";
  EXPECT_EQ(Url("git://127.0.0.1:9418/fleet"), "git://127.0.0.1/fleet");
  EXPECT_EQ(Url("git://127.0.0.1:5000/fleet.git"), "git://127.0.0.1:5000/fleet");
  EXPECT_EQ(Url("ssh://git@GitHub.com:22/org/fleet.git"), "ssh://git@github.com/org/fleet");
  EXPECT_EQ(Url("git@github.com:org/fleet.git"), "ssh://git@github.com/org/fleet") << "scp-like, as Argo CD";
}

TEST(SourceIdentityTest, SecretsNeverReachTheIdentity) {
  Result<SourceIdentity> id = IdentifySource("https://user:s3cret@git.example.com/fleet", "", "/");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->url.find("s3cret"), std::string::npos);
  EXPECT_NE(id->fetch_url.find("s3cret"), std::string::npos) << "the fetch still authenticates";
}

TEST(SourceIdentityTest, PathsNormalize) {
  for (const char* spelling : {"fleet", "fleet/", "./fleet", "fleet//", "/fleet", "a/../fleet", "./fleet/."}) {
    EXPECT_EQ(Path(spelling), "fleet") << spelling;
  }
  EXPECT_EQ(Path(""), "");
  EXPECT_EQ(Path("."), "");
  EXPECT_EQ(Path("envs//prod/"), "envs/prod");
  Result<SourceIdentity> out = IdentifySource("/r", "../other", "/");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("leaves the repository"), std::string::npos) << out.status().message();
}

TEST(SourceIdentityTest, BadInputIsNamed) {
  EXPECT_FALSE(IdentifySource("", "", "/").ok());
  Result<SourceIdentity> rel = IdentifySource("file://relative/path", "", "/");
  ASSERT_FALSE(rel.ok());
  EXPECT_NE(rel.status().message().find("absolute path"), std::string::npos) << rel.status().message();
}

TEST(SourceIdentityTest, RecordedUrlsOfOlderStores) {
  bool resolved = false;
  EXPECT_EQ(NormalizeRecordedUrl("/abs/repo/", &resolved), "file:///abs/repo");
  EXPECT_TRUE(resolved);
  EXPECT_EQ(NormalizeRecordedUrl("file:///abs/repo", &resolved), "file:///abs/repo");
  EXPECT_EQ(NormalizeRecordedUrl("https://github.com/o/r.git", &resolved), "https://github.com/o/r");
  EXPECT_EQ(NormalizeRecordedUrl("repo", &resolved), "repo");
  EXPECT_FALSE(resolved) << "a relative path's directory is unknown";
}

}  // namespace
}  // namespace converge
