// Symlinks and submodules in a spec repository: links inside the repository are followed, a link
// out of it is an error naming both paths, a dangling link and a submodule are warnings.
#include <gtest/gtest.h>

#include "engine/base/env.h"
#include "engine/source/source.h"
#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using testing::GitRepo;
using testing::TempDir;

class LinksTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Snapshot>> Fetch() {
    SourceSpec spec;
    spec.url = repo_.path();
    spec.path = "fleet";
    return FetchSource(spec, tmp_.Join("cache"), Env::Default());
  }
  std::vector<std::string> Paths(const Snapshot& s) {
    std::vector<std::string> out;
    for (const SourceFile& f : s.files()) out.push_back(f.path);
    return out;
  }

  TempDir tmp_;
  GitRepo repo_ = GitRepo::Init(tmp_.Join("repo"));
};

TEST_F(LinksTest, LinksInsideTheRepositoryAreRead) {
  repo_.WriteFile("shared/app.yaml", "kind: ConfigMap\n");
  repo_.WriteFile("shared/more/b.yaml", "kind: Secret\n");
  repo_.WriteFile("fleet/own.yaml", "kind: Namespace\n");
  repo_.Git("config core.symlinks true");
  testing::RunCommand("ln -s ../shared/app.yaml " + repo_.path() + "/fleet/app.yaml", nullptr);
  testing::RunCommand("ln -s ../shared/more " + repo_.path() + "/fleet/more", nullptr);
  testing::RunCommand("ln -s ../nowhere.yaml " + repo_.path() + "/fleet/dangling.yaml", nullptr);
  repo_.Commit("links");
  // A submodule: a gitlink entry (its commit is not in this repository).
  repo_.Git("update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,fleet/vendor");
  repo_.Git("commit -q -m submodule");
  auto snap = Fetch();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(Paths(**snap), (std::vector<std::string>{"fleet/app.yaml", "fleet/more/b.yaml", "fleet/own.yaml"}));
  Result<std::string> text = (*snap)->Read((*snap)->files()[0]);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "kind: ConfigMap\n") << "the link's target is read";
  std::vector<std::string> warnings;
  for (const Diagnostic& d : (*snap)->warnings()) warnings.push_back(d.ToString());
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "fleet/dangling.yaml: a symlink to ../nowhere.yaml, which does not exist in this commit; skipped",
                          "fleet/vendor: a Git submodule; its files are not read (give its repository a source of its own)"}));
}

TEST_F(LinksTest, ALinkOutOfTheRepositoryIsAnErrorNamingBothPaths) {
  repo_.WriteFile("fleet/own.yaml", "kind: Namespace\n");
  testing::RunCommand("ln -s ../../../etc/passwd.yaml " + repo_.path() + "/fleet/escape.yaml", nullptr);
  repo_.Commit("escape");
  auto snap = Fetch();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Code::kInvalid);
  EXPECT_NE(snap.status().message().find("fleet/escape.yaml is a symlink to ../../../etc/passwd.yaml, which is outside "
                                         "the repository"),
            std::string::npos)
      << snap.status().message();
}

}  // namespace
}  // namespace converge
