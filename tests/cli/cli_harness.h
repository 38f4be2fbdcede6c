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
  // Runs `converge --state-dir <state> ARGS` through /bin/sh (so ARGS may redirect, e.g.
  // ">out.txt") with stdout and stderr on a pseudo-terminal, as in a person's shell; `env`
  // entries are "NAME=value" to set (value may be empty) or "-NAME" to unset. `out` is all it
  // wrote to the terminal (newlines as "\r\n"), `err` stays empty.
  RunResult ConvergeOnTty(const std::string& args, const std::vector<std::string>& env = {});
  // Same with --repo <daemon url> appended after the subcommand words in `cmd`.
  RunResult WithRepo(const std::string& cmd, const std::string& extra = "");
  nlohmann::json Json(const RunResult& r);

  GitRepo& repo() { return *repo_; }
  const std::string& url() const { return url_; }
  const std::string& state_dir() const { return state_dir_; }
  // The harness's temporary directory (the repository is repos/fleet under it).
  const std::string& dir() const { return tmp_.path(); }
  // A path in the harness's temporary directory.
  std::string TempPath(const std::string& name) const { return tmp_.Join(name); }

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
