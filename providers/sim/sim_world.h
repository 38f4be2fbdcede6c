// SimWorld: the simulated fleet as a person or a test sees it (`converge sim ...`): list it, and
// perturb it with drift (patch, delete) and faults (outage, API errors, latency). Reads and writes
// the same sim_ tables as the sim provider. One thread at a time.
#pragma once

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/model/object.h"

namespace converge {

class Env;

class SimWorld {
 public:
  // Opens <state_dir>/converge.db (created if missing).
  static Result<std::unique_ptr<SimWorld>> Open(const std::string& state_dir, Env* env);
  virtual ~SimWorld() = default;

  // The world after advancing simulated time to now:
  // {"clouds":[{"name","provider":"sim","regions":[...]}],
  //  "clusters":[{"name","cloud","region","phase","version","nodes":N,"readyNodes":N,"faults":{...}}],
  //  "nodes":[{"cluster","name","pool","arch","cpu":"2","memory":"4Gi","allocatedCpu","allocatedMemory","ready":bool}],
  //  "objects":[{"cluster","apiVersion","kind","namespace","name","resourceVersion","generation","status":{...}}]}
  // Pods are listed as objects of kind Pod (with spec.nodeName and status.phase).
  virtual Result<Json> List() = 0;
  // Human-readable tables of List() for a terminal.
  virtual std::string FormatList(const Json& list) const = 0;

  // JSON merge patch (RFC 7386) of a live object, as another actor would (drift). `kind` is
  // matched case-insensitively against kind, and also accepts the lowercase plural
  // ("deployments"); `ns_name` is "namespace/name", or "name" for cluster-scoped objects.
  // NotFound naming cluster/kind/name; Invalid for a patch that is not a JSON object.
  virtual Status Patch(const std::string& cluster, const std::string& kind, const std::string& ns_name,
                       const std::string& merge_patch) = 0;
  virtual Status Delete(const std::string& cluster, const std::string& kind, const std::string& ns_name) = 0;

  // `fault` is "outage", "api-errors=RATE" (0 < RATE <= 1, the fraction of API calls that fail
  // with a retryable error) or "latency=MS". Faults accumulate until Heal.
  virtual Status Fault(const std::string& cluster, const std::string& fault) = 0;
  virtual Status Heal(const std::string& cluster) = 0;
};

}  // namespace converge
