// The sim's tables as migrations of component "sim": files made by converge before the sim had
// migrations are taken as they are, newer ones are refused untouched, fresh ones get both
// version places.
#include <sqlite3.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "providers/provider.h"
#include "providers/sim/sim_provider.h"
#include "tests/testing/simulated_env.h"
#include "tests/testing/temp_dir.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

// The sim's schema exactly as converge created it before migrations (CREATE ... IF NOT EXISTS,
// version 1 in sim_meta). Frozen: it stands for files already in the field.
constexpr const char* kPreMigrationSchema = R"sql(
CREATE TABLE IF NOT EXISTS sim_meta(schema_version INTEGER NOT NULL, next_rv INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_clouds(name TEXT PRIMARY KEY, regions TEXT NOT NULL, create_ms INTEGER NOT NULL,
  pod_start_ms INTEGER NOT NULL, upgrade_step_ms INTEGER NOT NULL, scale_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_clusters(name TEXT PRIMARY KEY, cloud TEXT NOT NULL, region TEXT NOT NULL,
  zone TEXT NOT NULL, manifest TEXT NOT NULL, uid TEXT NOT NULL, rv INTEGER NOT NULL, generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL, ready_at INTEGER NOT NULL, version TEXT NOT NULL, upgrade_to TEXT NOT NULL DEFAULT '',
  upgrade_at INTEGER NOT NULL DEFAULT 0, upgrade_pools TEXT NOT NULL DEFAULT '[]', scale_until INTEGER NOT NULL DEFAULT 0,
  deletion_protection INTEGER NOT NULL DEFAULT 0, faults TEXT NOT NULL DEFAULT '{}', next_event_at INTEGER,
  next_ip INTEGER NOT NULL DEFAULT 10);
CREATE TABLE IF NOT EXISTS sim_pools(cluster TEXT NOT NULL, name TEXT NOT NULL, ord INTEGER NOT NULL,
  flavor TEXT NOT NULL, arch TEXT NOT NULL, count INTEGER NOT NULL, cpu_milli INTEGER NOT NULL,
  mem_bytes INTEGER NOT NULL, version TEXT NOT NULL, PRIMARY KEY(cluster, name));
CREATE TABLE IF NOT EXISTS sim_nodes(cluster TEXT NOT NULL, name TEXT NOT NULL, pool TEXT NOT NULL,
  idx INTEGER NOT NULL, cpu_milli INTEGER NOT NULL, mem_bytes INTEGER NOT NULL, alloc_cpu INTEGER NOT NULL DEFAULT 0,
  alloc_mem INTEGER NOT NULL DEFAULT 0, ready_at INTEGER NOT NULL, labels TEXT NOT NULL, PRIMARY KEY(cluster, name));
CREATE TABLE IF NOT EXISTS sim_objects(id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, grp TEXT NOT NULL,
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, applied TEXT,
  rv INTEGER NOT NULL, owner_kind TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
  revision TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '', pin_node TEXT NOT NULL DEFAULT '',
  cpu_milli INTEGER NOT NULL DEFAULT 0, mem_bytes INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL DEFAULT 0,
  pending INTEGER NOT NULL DEFAULT 0, ready INTEGER NOT NULL DEFAULT 0, next_event_at INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS sim_objects_key ON sim_objects(cluster, grp, kind, namespace, name);
CREATE INDEX IF NOT EXISTS sim_objects_owner ON sim_objects(cluster, namespace, owner_kind, owner_name);
CREATE INDEX IF NOT EXISTS sim_objects_node ON sim_objects(cluster, node);
CREATE INDEX IF NOT EXISTS sim_objects_event ON sim_objects(cluster, next_event_at) WHERE next_event_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sim_objects_pending ON sim_objects(cluster, created_ms) WHERE pending = 1;
CREATE INDEX IF NOT EXISTS sim_nodes_ready ON sim_nodes(cluster, ready_at);
)sql";

void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "<cannot open>";
  std::string out;
  sqlite3_exec(
      db, sql.c_str(),
      [](void* o, int, char** vals, char**) {
        if (vals[0] != nullptr) *static_cast<std::string*>(o) = vals[0];
        return 1;
      },
      &out, nullptr);
  sqlite3_close(db);
  return out;
}

CloudSpec Cloud() {
  CloudSpec c;
  c.name = "simcloud";
  c.provider = "sim";
  c.region = "eu-west-1";
  return c;
}

ClusterSpec Cluster(const std::string& name) {
  ClusterSpec c;
  c.name = name;
  c.cloud = "simcloud";
  c.version = "1.29";
  NodePoolSpec pool;
  pool.name = "default";
  pool.flavor = "c7.large.2";
  pool.count = 2;
  c.node_pools = {pool};
  return c;
}

class SimSchemaTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<CloudProvider>> Provider() {
    return NewSimCloudFactory()->Create(Cloud(), ProviderContext{&env_, dir_.path()});
  }

  testing::TempDir dir_{"converge-sim-schema"};
  std::string db_ = dir_.Join("converge.db");
  testing::SimulatedEnv env_;
};

TEST_F(SimSchemaTest, AFreshFileRecordsTheVersionInBothPlaces) {
  ASSERT_TRUE(Provider().ok());
  EXPECT_EQ(Query(db_, "SELECT version FROM schema_versions WHERE component = 'sim'"), "2");
  EXPECT_EQ(Query(db_, "SELECT schema_version FROM sim_meta"), "2");  // what older converge reads
  EXPECT_EQ(Query(db_, "SELECT count(*) FROM sim_meta"), "1");
  EXPECT_EQ(Query(db_, "SELECT next_rv FROM sim_meta"), "1");
}

TEST_F(SimSchemaTest, AFileFromBeforeMigrationsIsTakenAsItIs) {
  RawExec(db_, std::string(kPreMigrationSchema) + "INSERT INTO sim_meta VALUES (1, 500);");
  auto provider = Provider();
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  ASSERT_TRUE((*provider)->EnsureCloud({}).ok());
  ASSERT_TRUE((*provider)->StartApplyCluster(Cluster("kept"), {}).ok());
  auto live = (*provider)->GetCluster("kept", {});
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ((*live)["metadata"]["resourceVersion"], "500");  // the world's counter carried on
  EXPECT_EQ(Query(db_, "SELECT count(*) FROM sim_meta"), "1");  // migration 1 did not run again
  EXPECT_EQ(Query(db_, "SELECT count(*) FROM sim_nodes WHERE cluster = 'kept'"), "2");
}

TEST_F(SimSchemaTest, ANewerSimSchemaIsRefusedAndTheFileLeftUnchanged) {
  RawExec(db_, std::string(kPreMigrationSchema) + "INSERT INTO sim_meta VALUES (3, 7);");
  const std::string before = testing::ReadAll(db_);
  auto provider = Provider();
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(provider.status().code(), Code::kUnsupported);
  EXPECT_THAT(provider.status().message(),
              HasSubstr("state store " + db_ + " was written by a newer converge (sim schema 3, this build knows up "
                                               "to 2): upgrade converge"));
  EXPECT_EQ(testing::ReadAll(db_), before);
}

TEST_F(SimSchemaTest, ASimRowCodecWritesWhatTheOldSchemaReads) {
  ASSERT_TRUE(Provider().ok());
  auto provider = Provider();
  ASSERT_TRUE(provider.ok());
  ASSERT_TRUE((*provider)->EnsureCloud({}).ok());
  ASSERT_TRUE((*provider)->StartApplyCluster(Cluster("one"), {}).ok());
  ClusterSpec bigger = Cluster("one");
  NodePoolSpec extra;
  extra.name = "extra";
  extra.flavor = "c7.xlarge.2";
  extra.count = 1;
  bigger.node_pools.push_back(extra);
  ASSERT_TRUE((*provider)->StartApplyCluster(bigger, {}).ok());
  // The one pool INSERT wrote both pools, in order, with their nodes and defaults.
  EXPECT_EQ(Query(db_, "SELECT group_concat(name || ':' || ord || ':' || count || ':' || cpu_milli, ',') "
                       "FROM (SELECT * FROM sim_pools WHERE cluster = 'one' ORDER BY ord)"),
            "default:0:2:2000,extra:1:1:4000");
  EXPECT_EQ(Query(db_, "SELECT count(*) FROM sim_nodes WHERE cluster = 'one' AND alloc_cpu = 0"), "3");
  EXPECT_EQ(Query(db_, "SELECT faults || upgrade_pools || upgrade_to || next_ip FROM sim_clusters"), "{}[]10");
}

}  // namespace
}  // namespace converge
