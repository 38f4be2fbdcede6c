// FaultInjector: wraps any CloudProviderFactory / ConnectorFactory pair (the real sim included) so
// that every call through them, and through the providers and connectors they make, is counted
// per method; a FaultRule then makes the calls of one method after the first N fail with a chosen
// Status, or end the process with _exit(code) (crash tests, run in a forked child), before or
// after the wrapped call runs: "after" lets a test crash just after the provider applied an object.
// Method names are the interface's: "Create", "ValidateConfig", "EnsureCloud", "GetCluster",
// "StartApplyCluster", "StartDeleteCluster", "PollOperation", "Endpoint", "Connect", "Discover",
// "ChangeMarker", "Get", "GetMany", "ResourceVersions", "List", "Apply", "Delete", "Watch".
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "providers/provider.h"
#include "tests/testing/scoped_registration.h"

namespace converge::testing {

enum class FaultTiming {
  kBeforeCall,  // the wrapped call does not run
  kAfterCall,   // the wrapped call runs (and takes effect), then the fault hits
};

struct FaultRule {
  std::string method;
  int after_calls = 0;  // calls 1..after_calls pass; the fault hits from call after_calls + 1
  int times = -1;       // how many calls it hits; < 0: every call from then on
  Status status = Status::Unavailable("injected fault");  // what a failing call returns
  int exit_code = -1;   // >= 0: _exit(exit_code) instead of failing
  FaultTiming timing = FaultTiming::kBeforeCall;
};

class FaultInjector : public std::enable_shared_from_this<FaultInjector> {
 public:
  static std::shared_ptr<FaultInjector> Create() { return std::shared_ptr<FaultInjector>(new FaultInjector()); }

  // Adds a rule; rules for the same method apply in the order added.
  void AddRule(FaultRule rule);
  void ClearRules();

  // Calls seen so far, by method (a call that a fault hit counts too).
  int Count(const std::string& method) const;
  std::map<std::string, int> Counts() const;

  // Factories that delegate to `inner` under the same name, with counting and faults.
  std::unique_ptr<CloudProviderFactory> Wrap(std::unique_ptr<CloudProviderFactory> inner);
  std::unique_ptr<ConnectorFactory> Wrap(std::unique_ptr<ConnectorFactory> inner);
  // Both wrapped factories in `registry` under their name until the guard goes.
  ScopedRegistration Install(ProviderRegistry& registry, std::unique_ptr<CloudProviderFactory> cloud,
                             std::unique_ptr<ConnectorFactory> connector);

  // What to do about one call (used by the wrappers).
  struct Decision {
    bool hit = false;
    FaultRule rule;
  };
  Decision OnCall(const std::string& method);

 private:
  FaultInjector() = default;

  mutable std::mutex mu_;
  std::map<std::string, int> counts_;
  struct Active {
    FaultRule rule;
    int hits = 0;
  };
  std::vector<Active> rules_;
};

}  // namespace converge::testing
