// Shared by the store tests: a Store on a fresh file in a temp dir with a fake clock, and rows.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "engine/store/store.h"
#include "tests/testing/simulated_env.h"
#include "tests/testing/temp_dir.h"

namespace converge {

inline ObjectRef Ref(const std::string& cluster, const std::string& group, const std::string& kind, const std::string& ns,
              const std::string& name) {
  return ObjectRef{cluster, ObjectKey{group, kind, ns, name}};
}

// The first column of the first row of `sql` on a plain sqlite3 handle, as text; "" when none.
inline std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "<cannot open>";
  std::string out;
  sqlite3_exec(
      db, sql.c_str(),
      [](void* o, int, char** vals, char**) {
        if (vals[0] != nullptr) *static_cast<std::string*>(o) = vals[0];
        return 1;  // the first row is enough
      },
      &out, nullptr);
  sqlite3_close(db);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore() {
    auto store = Store::Open(db_path_, &env_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  testing::TempDir dir_{"converge-store"};
  std::string db_path_ = dir_.Join("state/converge.db");  // parent does not exist yet
  testing::SimulatedEnv env_;
};

inline InventoryEntry MakeEntry(int64_t source_id, int i) {
  InventoryEntry e;
  e.source_id = source_id;
  e.ref = Ref("cluster-" + std::to_string(i % 10), i % 2 ? "apps" : "", i % 2 ? "Deployment" : "ConfigMap",
              "ns-" + std::to_string(i % 7), "obj-" + std::to_string(i));
  e.api_version = i % 2 ? "apps/v1" : "v1";
  e.last_applied = "{\"i\":" + std::to_string(i) + "}";
  e.desired_hash = "h" + std::to_string(i);
  e.live_version = std::to_string(1000 + i);
  e.health = "Healthy";
  e.health_message = "";
  e.drift = i % 3 == 0;
  e.pending = i % 5 == 0;
  e.updated_at = 0;  // filled from the Env clock
  return e;
}

inline void ExpectSameEntry(const InventoryEntry& got, const InventoryEntry& want, int64_t updated_at) {
  EXPECT_EQ(got.source_id, want.source_id);
  EXPECT_EQ(got.ref, want.ref);
  EXPECT_EQ(got.api_version, want.api_version);
  EXPECT_EQ(got.last_applied, want.last_applied);
  EXPECT_EQ(got.desired_hash, want.desired_hash);
  EXPECT_EQ(got.live_version, want.live_version);
  EXPECT_EQ(got.health, want.health);
  EXPECT_EQ(got.health_message, want.health_message);
  EXPECT_EQ(got.drift, want.drift);
  EXPECT_EQ(got.pending, want.pending);
  EXPECT_EQ(got.updated_at, updated_at);
}

}  // namespace converge
