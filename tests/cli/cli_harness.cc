#include "tests/cli/cli_harness.h"

#include <gtest/gtest.h>

#include <pty.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace converge::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

FleetHarness::FleetHarness() {
  state_dir_ = tmp_.path() + "/state";
  std::string repos = tmp_.path() + "/repos";
  std::string dir = repos + "/fleet";
  RunCommand("mkdir -p " + dir, nullptr);
  repo_ = std::make_unique<GitRepo>(GitRepo::Init(dir, "main"));
  daemon_.Start(repos);
  url_ = daemon_.url("fleet");
}

FleetHarness::~FleetHarness() = default;

RunResult FleetHarness::Converge(const std::string& args) { return ConvergeIn("", args); }

RunResult FleetHarness::ConvergeIn(const std::string& cwd, const std::string& args) {
  std::string out = tmp_.path() + "/stdout";
  std::string err = tmp_.path() + "/stderr";
  // CONVERGE_TEST_BINARY runs the tests against another build (e.g. one from before a fix).
  const char* other = std::getenv("CONVERGE_TEST_BINARY");
  std::string cmd = (cwd.empty() ? "" : "cd " + ShellQuote(cwd) + " && ") +
                    std::string(other && *other ? other : CONVERGE_BINARY) + " --state-dir " + state_dir_ + " " + args +
                    " >" + out + " 2>" + err + " </dev/null";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

RunResult FleetHarness::ConvergeOnTty(const std::string& args, const std::vector<std::string>& env) {
  std::string cmd = std::string(CONVERGE_BINARY) + " --state-dir " + state_dir_ + " " + args;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  RunResult r;
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed: " << std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    for (const std::string& e : env) {
      if (!e.empty() && e[0] == '-') {
        unsetenv(e.c_str() + 1);
      } else if (size_t eq = e.find('='); eq != std::string::npos) {
        setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
      }
    }
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Everything written to the terminal, until the child side closes (read fails with EIO).
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) {
      r.out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

RunResult FleetHarness::WithRepo(const std::string& cmd, const std::string& extra) {
  return Converge(cmd + " --repo " + url_ + (extra.empty() ? "" : " " + extra));
}

nlohmann::json FleetHarness::Json(const RunResult& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON document: " << e.what() << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
    return nullptr;
  }
}

void FleetHarness::WriteStandardFleet() {
  repo_->WriteFile("clouds.yaml", R"(apiVersion: converge.dev/v1alpha1
kind: Cloud
metadata:
  name: c1
spec:
  provider: sim
  region: r1
  simulation:
    clusterCreateSeconds: 0.3
    podStartSeconds: 0.2
    upgradeStepSeconds: 0.2
    scaleSeconds: 0.2
)");
  repo_->WriteFile("clusters/alpha.yaml", R"(apiVersion: converge.dev/v1alpha1
kind: Cluster
metadata:
  name: alpha
  labels: {tier: prod}
spec:
  cloud: c1
  version: "1.29"
  nodePools:
    - name: general
      flavor: c7.xlarge.2
      count: 2
)");
  repo_->WriteFile("clusters/beta.yaml", R"(apiVersion: converge.dev/v1alpha1
kind: Cluster
metadata:
  name: beta
  labels: {tier: dev}
spec:
  cloud: c1
  version: "1.29"
  nodePools:
    - name: arm
      flavor: kc1.large.2
      arch: arm64
      count: 2
)");
  repo_->WriteFile("apps/web.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: web
  annotations:
    converge.dev/cluster-selector: tier
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: web
  annotations:
    converge.dev/cluster-selector: tier
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  annotations:
    converge.dev/cluster-selector: tier
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          resources:
            requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: web
  annotations:
    converge.dev/cluster-selector: tier
spec:
  selector: {app: web}
  ports:
    - port: 80
)");
  repo_->WriteFile("apps/api.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: api
  annotations:
    converge.dev/clusters: alpha
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: api
  annotations:
    converge.dev/clusters: alpha
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: example/api:1.0
)");
  repo_->Commit("standard fleet");
}

}  // namespace converge::testing
