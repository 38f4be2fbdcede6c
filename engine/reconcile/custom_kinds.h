// Custom resources against the cluster they go to, at plan time: each must be served by the
// cluster (a CustomResourceDefinition it has, per ClusterConnector::Discover) or declared by a
// CustomResourceDefinition this sync delivers to the same cluster, and its namespace must fit the
// scope the cluster's CRD gives it. The cluster is asked once, and only when some custom resource
// is not declared by the sync itself. Pure apart from `served`; thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/observe/observe.h"
#include "engine/reconcile/desired_state.h"

namespace converge {

// Ok, or Invalid listing every custom resource of `desired` (objects of `cluster`) the cluster
// cannot take, one per line, "file:line: <Kind> "<name>": ...". Errors from `served` are returned.
Status CheckCustomKinds(const std::string& cluster, const std::vector<const DesiredObject*>& desired,
                        const DesiredState& state, const std::function<Result<std::vector<ServedKind>>()>& served);

}  // namespace converge
