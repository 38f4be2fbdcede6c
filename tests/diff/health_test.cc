// AssessHealth: one line per case (live object -> health and message).
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/health/health.h"

namespace converge {
namespace {

struct HealthCase {
  const char* name;
  const char* live;
  Health want;
  const char* message;  // expected substring of the message ("" = not checked)
};

class AssessHealthTest : public ::testing::TestWithParam<HealthCase> {};

TEST_P(AssessHealthTest, Assesses) {
  const HealthCase& c = GetParam();
  Json live = Json::parse(c.live);
  HealthStatus got = AssessHealth(&live);
  EXPECT_EQ(HealthName(got.health), std::string(HealthName(c.want))) << got.message;
  EXPECT_NE(got.message.find(c.message), std::string::npos) << got.message;
}

#define DEPLOY R"("apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","generation":2})"
#define STS R"("apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","generation":1})"
#define DS R"("apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent","generation":1})"
#define POD R"("apiVersion":"v1","kind":"Pod","metadata":{"name":"p"})"
#define CLUSTER R"("apiVersion":"converge.dev/v1alpha1","kind":"Cluster","metadata":{"name":"c"})"
#define SVC R"("apiVersion":"v1","kind":"Service","metadata":{"name":"s"})"
#define PVC R"("apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"v"})"
#define JOB R"("apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"})"

const HealthCase kCases[] = {
    {"deploy_healthy", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":3}})", Health::kHealthy, "3/3"},
    {"deploy_default_one_replica", "{" DEPLOY R"(,"spec":{},"status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"availableReplicas":1}})", Health::kHealthy, ""},
    {"deploy_default_one_replica_missing", "{" DEPLOY R"(,"spec":{},"status":{"observedGeneration":2}})", Health::kProgressing, "0/1"},
    {"deploy_not_observed", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":1,"replicas":3,"updatedReplicas":3,"availableReplicas":3}})", Health::kProgressing, "generation 2"},
    {"deploy_updating", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":1,"availableReplicas":3}})", Health::kProgressing, "1/3 replicas updated"},
    {"deploy_old_pending", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":4,"updatedReplicas":3,"availableReplicas":3}})", Health::kProgressing, "1 old replicas"},
    {"deploy_unavailable", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":2}})", Health::kProgressing, "2/3 replicas available"},
    {"deploy_deadline", "{" DEPLOY R"(,"spec":{"replicas":3},"status":{"observedGeneration":2,"updatedReplicas":1,"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","message":"ReplicaSet \"web-1\" has timed out progressing."}]}})", Health::kDegraded, "timed out"},
    {"deploy_zero_replicas", "{" DEPLOY R"(,"spec":{"replicas":0},"status":{"observedGeneration":2}})", Health::kHealthy, ""},
    {"deploy_malformed_replicas", "{" DEPLOY R"(,"spec":{"replicas":"three"},"status":{"observedGeneration":2}})", Health::kUnknown, "spec.replicas is not an integer"},
    {"deploy_malformed_status", "{" DEPLOY R"(,"status":"broken"})", Health::kUnknown, "status is not a map"},
    {"deploy_malformed_conditions", "{" DEPLOY R"(,"status":{"observedGeneration":2,"conditions":{}}})", Health::kUnknown, "status.conditions is not a list"},
    {"sts_ready", "{" STS R"(,"spec":{"replicas":2},"status":{"observedGeneration":1,"readyReplicas":2}})", Health::kHealthy, ""},
    {"sts_not_ready", "{" STS R"(,"spec":{"replicas":3},"status":{"observedGeneration":1,"readyReplicas":1}})", Health::kProgressing, "1/3 replicas ready"},
    {"sts_updating", "{" STS R"(,"spec":{"replicas":3},"status":{"observedGeneration":1,"readyReplicas":3,"updatedReplicas":2}})", Health::kProgressing, "2/3 replicas updated"},
    {"ds_available", "{" DS R"(,"status":{"observedGeneration":1,"desiredNumberScheduled":3,"numberAvailable":3}})", Health::kHealthy, ""},
    {"ds_rolling", "{" DS R"(,"status":{"observedGeneration":1,"desiredNumberScheduled":3,"numberAvailable":2}})", Health::kProgressing, "2/3 pods available"},
    {"pod_ready", "{" POD R"(,"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})", Health::kHealthy, ""},
    {"pod_running_not_ready", "{" POD R"(,"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady"}]}})", Health::kProgressing, "ContainersNotReady"},
    {"pod_unschedulable", "{" POD R"(,"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available"}]}})", Health::kProgressing, "Unschedulable: 0/3 nodes"},
    {"pod_no_status", "{" POD "}", Health::kProgressing, "pending"},
    {"pod_failed", "{" POD R"(,"status":{"phase":"Failed","message":"OOMKilled"}})", Health::kDegraded, "OOMKilled"},
    {"pod_crashloop", "{" POD R"(,"status":{"phase":"Running","containerStatuses":[{"name":"web","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})", Health::kDegraded, "web: CrashLoopBackOff"},
    {"pod_succeeded", "{" POD R"(,"status":{"phase":"Succeeded"}})", Health::kHealthy, ""},
    {"cluster_running", "{" CLUSTER R"(,"status":{"phase":"Running"}})", Health::kHealthy, ""},
    {"cluster_creating", "{" CLUSTER R"(,"status":{"phase":"Creating"}})", Health::kProgressing, "Creating"},
    {"cluster_upgrading", "{" CLUSTER R"(,"status":{"phase":"Upgrading","message":"upgrading to 1.29"}})", Health::kProgressing, "1.29"},
    {"cluster_deleting", "{" CLUSTER R"(,"status":{"phase":"Deleting"}})", Health::kProgressing, ""},
    {"cluster_failed", "{" CLUSTER R"(,"status":{"phase":"Failed","message":"quota exceeded"}})", Health::kDegraded, "quota exceeded"},
    {"cluster_no_status", "{" CLUSTER "}", Health::kProgressing, "not reported"},
    {"cluster_odd_phase", "{" CLUSTER R"(,"status":{"phase":"Sideways"}})", Health::kUnknown, "Sideways"},
    {"svc_clusterip", "{" SVC R"(,"spec":{"type":"ClusterIP"}})", Health::kHealthy, ""},
    {"svc_lb_pending", "{" SVC R"(,"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{}}})", Health::kProgressing, "load balancer"},
    {"svc_lb_ready", "{" SVC R"(,"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.1"}]}}})", Health::kHealthy, ""},
    {"pvc_bound", "{" PVC R"(,"status":{"phase":"Bound"}})", Health::kHealthy, ""},
    {"pvc_pending", "{" PVC R"(,"status":{"phase":"Pending"}})", Health::kProgressing, "Pending"},
    {"pvc_lost", "{" PVC R"(,"status":{"phase":"Lost"}})", Health::kDegraded, "lost"},
    {"job_complete", "{" JOB R"(,"status":{"conditions":[{"type":"Complete","status":"True"}]}})", Health::kHealthy, ""},
    {"job_failed", "{" JOB R"(,"status":{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}})", Health::kDegraded, "BackoffLimitExceeded"},
    {"job_running", "{" JOB R"(,"status":{"active":1}})", Health::kProgressing, ""},
    {"configmap", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})", Health::kHealthy, ""},
    {"custom_resource", R"({"apiVersion":"example.com/v1","kind":"Deployment","status":"x"})", Health::kUnknown, "status is not a map"},
    {"not_a_map", R"([1,2])", Health::kUnknown, "not a map"},
    {"kind_not_string", R"({"kind":3})", Health::kUnknown, "kind is not a string"},
};

INSTANTIATE_TEST_SUITE_P(Cases, AssessHealthTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AssessHealthTest, NullIsMissing) {
  EXPECT_EQ(AssessHealth(nullptr).health, Health::kMissing);
  Json null;
  EXPECT_EQ(AssessHealth(&null).health, Health::kMissing);
}

TEST(AssessHealthTest, WorstOrdersFromHealthyToMissing) {
  EXPECT_EQ(Worst(Health::kHealthy, Health::kProgressing), Health::kProgressing);
  EXPECT_EQ(Worst(Health::kDegraded, Health::kUnknown), Health::kDegraded);
  EXPECT_EQ(Worst(Health::kMissing, Health::kDegraded), Health::kMissing);
  EXPECT_STREQ(HealthName(Health::kProgressing), "Progressing");
  EXPECT_STREQ(HealthName(Health::kMissing), "Missing");
}

}  // namespace
}  // namespace converge
