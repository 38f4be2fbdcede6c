// Runs the real converge binary against a fleet repository served by `git daemon` on loopback,
// with its own state dir. Shared by the CLI test files.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/testing/git_fixture.h"

namespace converge::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// A small simulated fleet in a Git repository (fast simulated timings), served by git daemon.
class FleetHarness {
 public:
  FleetHarness();
  ~FleetHarness();

  // Runs `converge --state-dir <state> ARGS` and captures stdout and stderr separately.
  RunResult Converge(const std::string& args);
  // Same, run from the directory `cwd` (for relative --repo paths).
  RunResult ConvergeIn(const std::string& cwd, const std::string& args);
  // Same with --repo <daemon url> appended after the subcommand words in `cmd`.
  RunResult WithRepo(const std::string& cmd, const std::string& extra = "");
  nlohmann::json Json(const RunResult& r);

  GitRepo& repo() { return *repo_; }
  const std::string& url() const { return url_; }
  const std::string& state_dir() const { return state_dir_; }
  // The harness's temporary directory (the repository is repos/fleet under it).
  const std::string& dir() const { return tmp_.path(); }

  // Writes the standard fleet: clouds c1 (sim), clusters alpha (tier=prod) and beta (tier=dev),
  // app "web" (Namespace, ConfigMap, Deployment, Service) to every cluster, "api" only to prod.
  void WriteStandardFleet();

 private:
  TempDir tmp_;
  std::string state_dir_;
  std::unique_ptr<GitRepo> repo_;
  GitDaemon daemon_;
  std::string url_;
};

}  // namespace converge::testing
