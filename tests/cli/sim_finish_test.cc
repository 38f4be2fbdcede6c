// The simulated cluster finishes what real clusters finish (issue 6, section 6), through the
// real binary: what is done so far.
#include <gtest/gtest.h>

#include <map>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

TEST(SimFinishTest, ASecretWrittenWithStringDataIsStoredAsDataAndIsNoPerpetualDifference) {
  FleetHarness h;
  h.WriteStandardFleet();
  h.repo().WriteFile("apps/secret.yaml", R"(apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: web
  annotations:
    converge.dev/clusters: alpha
stringData:
  password: hunter2
)");
  h.repo().Commit("a Secret written with stringData");
  RunResult apply = h.WithRepo("apply", "--wait --timeout 60");
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  RunResult again = h.WithRepo("plan", "--detailed-exitcode");
  EXPECT_EQ(again.exit_code, 0) << "stringData is data once stored: nothing to do\n" << again.out << again.err;
  // The value changes in Git: one update.
  h.repo().WriteFile("apps/secret.yaml", h.repo().ReadFile("apps/secret.yaml").replace(
                                             h.repo().ReadFile("apps/secret.yaml").find("hunter2"), 7, "hunter3"));
  h.repo().Commit("rotate");
  RunResult rotated = h.WithRepo("plan", "--detailed-exitcode -o json");
  EXPECT_EQ(rotated.exit_code, 2) << rotated.out << rotated.err;
  nlohmann::json p = h.Json(rotated);
  EXPECT_EQ(p["summary"]["update"], 1) << p.dump(2);
  EXPECT_EQ(rotated.out.find("hunter"), std::string::npos) << "values never printed";
}

TEST(SimFinishTest, LoadBalancersGetAnAddressAndClaimsBind) {
  FleetHarness h;
  h.WriteStandardFleet();
  h.repo().WriteFile("apps/storage.yaml", R"(apiVersion: v1
kind: Service
metadata:
  name: public
  namespace: web
  annotations: {converge.dev/clusters: alpha}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: dynamic
  namespace: web
  annotations: {converge.dev/clusters: alpha}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: static-pv
  annotations: {converge.dev/clusters: alpha}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /data/static}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: static
  namespace: web
  annotations: {converge.dev/clusters: alpha}
spec:
  accessModes: [ReadWriteOnce]
  volumeName: static-pv
  storageClassName: ""
  resources: {requests: {storage: 5Gi}}
)");
  h.repo().Commit("a LoadBalancer, a PV and two claims");
  RunResult apply = h.WithRepo("apply", "--wait --timeout 60");
  ASSERT_EQ(apply.exit_code, 0) << "--wait ends: the address is given and the claims bind\n" << apply.out << apply.err;
  nlohmann::json list = h.Json(h.Converge("sim list -o json"));
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& o : list["objects"])
    if (o["cluster"] == "alpha") by_name[o["kind"].get<std::string>() + "/" + o["name"].get<std::string>()] = o;
  EXPECT_EQ(by_name["Service/public"]["status"]["loadBalancer"]["ingress"][0]["ip"].get<std::string>().rfind("203.0.113.", 0),
            0u)
      << by_name["Service/public"].dump();
  EXPECT_EQ(by_name["PersistentVolumeClaim/dynamic"]["status"]["phase"], "Bound");
  EXPECT_EQ(by_name["PersistentVolumeClaim/static"]["status"]["phase"], "Bound");
  EXPECT_EQ(by_name["PersistentVolume/static-pv"]["status"]["phase"], "Bound");
  EXPECT_EQ(by_name.count("StorageClass/standard"), 1u) << "the sim ships a default StorageClass";
  int provisioned = 0;
  for (const auto& [name, o] : by_name) provisioned += name.rfind("PersistentVolume/pvc-", 0) == 0;
  EXPECT_EQ(provisioned, 1);
  RunResult again = h.WithRepo("plan", "--detailed-exitcode");
  EXPECT_EQ(again.exit_code, 0) << "what the cluster filled in is no difference\n" << again.out << again.err;
}

}  // namespace
}  // namespace converge::testing
