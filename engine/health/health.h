// Health of live objects, as data (gitops-engine pkg/health): never an exception. The enum is
// ordered from best to worst so an aggregate's health is the worst of its parts. Pure.
#pragma once

#include <string>

#include "engine/model/object.h"

namespace converge {

enum class Health { kHealthy = 0, kProgressing = 1, kUnknown = 2, kDegraded = 3, kMissing = 4 };

const char* HealthName(Health h);  // "Healthy", ...

struct HealthStatus {
  Health health = Health::kUnknown;
  std::string message;
};

// Health of one live object (nullptr = missing): Deployment/StatefulSet/DaemonSet from their
// status against spec and generation, converge Cluster from status.phase (Running = Healthy),
// Pod from readiness, Service of type LoadBalancer from ingress; every other kind is Healthy
// when it exists.
HealthStatus AssessHealth(const Json* live);

// The worse of two.
inline Health Worst(Health a, Health b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace converge
