// SourceStore's leases on a real file: acquire, renew, release, expiry, the same owner again, a
// dead holder taken over and a live one refused, with real (forked) processes as holders.
#include "engine/store/source_store.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/store_fixture.h"
#include "tests/testing/processes.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kTtl = 30'000;

class LeaseTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto src = store_->sources()->Upsert("file:///repo", "main", "fleet");
    ASSERT_TRUE(src.ok());
    source_ = src->id;
  }
  SourceStore* sources() { return store_->sources(); }
  int64_t now() { return env_.NowMillis(); }

  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
  const LeaseOwner me_{"me-1", "host-a", getpid()};
  const LeaseOwner other_{"other-2", "host-b", 4242};
};

TEST_F(LeaseTest, AFreeLeaseIsGrantedAndRecorded) {
  auto lease = sources()->AcquireLease(source_, me_, kTtl, now());
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->source_id, source_);
  EXPECT_EQ(lease->owner.id, "me-1");
  EXPECT_EQ(lease->acquired_at, now());
  EXPECT_EQ(lease->expires_at, now() + kTtl);

  auto stored = sources()->GetLease(source_);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->owner.host, "host-a");
  EXPECT_EQ((*stored)->owner.pid, getpid());
  EXPECT_EQ((*stored)->expires_at, now() + kTtl);
}

TEST_F(LeaseTest, AHeldLeaseIsRefusedNamingTheHolder) {
  ASSERT_TRUE(sources()->AcquireLease(source_, other_, kTtl, now()).ok());
  env_.Advance(kTtl - 1);  // not expired yet
  auto refused = sources()->AcquireLease(source_, me_, kTtl, now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("another converge (pid 4242 on host host-b) is syncing source " + std::to_string(source_) +
                        " (file:///repo//fleet @ main) until 2023-11-14T22:13:50Z: wait for it"));
  auto stored = sources()->GetLease(source_);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->owner.id, "other-2");  // untouched
}

TEST_F(LeaseTest, AnExpiredLeaseIsTakenOver) {
  ASSERT_TRUE(sources()->AcquireLease(source_, other_, kTtl, now()).ok());
  env_.Advance(kTtl);
  auto lease = sources()->AcquireLease(source_, me_, kTtl, now());
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->owner.id, "me-1");
  EXPECT_EQ(lease->acquired_at, now());
  // The old holder has lost it.
  auto renew = sources()->RenewLease(source_, other_, kTtl, now());
  EXPECT_EQ(renew.status().code(), Code::kConflict);
  EXPECT_THAT(renew.status().message(), HasSubstr("was lost (pid " + std::to_string(getpid()) + " on host host-a"));
}

TEST_F(LeaseTest, TheSameOwnerAcquiresAgainKeepingWhenItFirstDid) {
  const int64_t first = now();
  ASSERT_TRUE(sources()->AcquireLease(source_, me_, kTtl, now()).ok());
  env_.Advance(1000);
  auto again = sources()->AcquireLease(source_, me_, kTtl, now());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->acquired_at, first);
  EXPECT_EQ(again->renewed_at, now());
  EXPECT_EQ(again->expires_at, now() + kTtl);
}

TEST_F(LeaseTest, RenewExtendsOnlyTheHoldersLease) {
  ASSERT_TRUE(sources()->AcquireLease(source_, me_, kTtl, now()).ok());
  env_.Advance(kTtl + 5);  // expired, but nobody took it: still ours to renew
  auto renewed = sources()->RenewLease(source_, me_, kTtl, now());
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->renewed_at, now());
  EXPECT_EQ(renewed->expires_at, now() + kTtl);
  auto stored = sources()->GetLease(source_);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->expires_at, now() + kTtl);

  auto theirs = sources()->RenewLease(source_, other_, kTtl, now());
  EXPECT_EQ(theirs.status().code(), Code::kConflict);
}

TEST_F(LeaseTest, ReleaseDropsOnlyTheHoldersLease) {
  ASSERT_TRUE(sources()->AcquireLease(source_, me_, kTtl, now()).ok());
  ASSERT_TRUE(sources()->ReleaseLease(source_, other_).ok());  // not theirs: left alone
  auto stored = sources()->GetLease(source_);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->has_value());

  ASSERT_TRUE(sources()->ReleaseLease(source_, me_).ok());
  stored = sources()->GetLease(source_);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  auto renew = sources()->RenewLease(source_, me_, kTtl, now());
  EXPECT_EQ(renew.status().code(), Code::kConflict);
  EXPECT_THAT(renew.status().message(), HasSubstr("was lost (nobody holds it now)"));
  EXPECT_TRUE(sources()->AcquireLease(source_, other_, kTtl, now()).ok());  // free again
}

TEST_F(LeaseTest, BadCallsAreRefused) {
  EXPECT_EQ(sources()->AcquireLease(source_ + 100, me_, kTtl, now()).status().code(), Code::kNotFound);
  EXPECT_EQ(sources()->AcquireLease(source_, me_, 0, now()).status().code(), Code::kInvalid);
  EXPECT_EQ(sources()->RenewLease(source_, me_, -1, now()).status().code(), Code::kInvalid);
}

TEST_F(LeaseTest, LeasesOfSourcesAreIndependent) {
  auto second = sources()->Upsert("file:///repo", "main", "apps");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(sources()->AcquireLease(source_, other_, kTtl, now()).ok());
  EXPECT_TRUE(sources()->AcquireLease(second->id, me_, kTtl, now()).ok());
}

// A holder process: takes the lease as (id, "host-a", its own pid), sends 'L', then waits for the
// test to close `go` before it exits.
pid_t ForkHolder(const std::string& db_path, int64_t source, const std::string& id, int64_t now,
                 testing::Pipe& report, testing::Pipe& go) {
  pid_t pid = fork();
  if (pid == 0) {
    report.CloseRead();
    go.CloseWrite();
    testing::SimulatedEnv env;
    auto store = Store::Open(db_path, &env);
    bool ok = store.ok() &&
              (*store)->sources()->AcquireLease(source, LeaseOwner{id, "host-a", getpid()}, kTtl, now).ok();
    report.Send(ok ? 'L' : 'E');
    go.Receive();
    _exit(ok ? 0 : 3);
  }
  return pid;
}

TEST_F(LeaseTest, ALiveHolderOnThisHostIsRefusedAndADeadOneTakenOver) {
  testing::Pipe report, go;
  pid_t holder = ForkHolder(db_path_, source_, "holder", now(), report, go);
  report.CloseWrite();
  go.CloseRead();
  ASSERT_EQ(report.Receive(), 'L');

  auto refused = sources()->AcquireLease(source_, me_, kTtl, now());  // same host, holder alive
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("another converge (pid " + std::to_string(holder) + " on host host-a) is syncing"));

  go.CloseWrite();  // let the holder exit, without releasing its lease
  ASSERT_EQ(testing::WaitForExit(holder), 0);
  ASSERT_TRUE(ProcessIsGone(holder));

  // Not expired, but its holder is gone from this host: an acquirer on another host must wait...
  auto elsewhere = sources()->AcquireLease(source_, other_, kTtl, now());
  EXPECT_EQ(elsewhere.status().code(), Code::kConflict) << elsewhere.status().ToString();
  // ...and one on the same host takes it over.
  auto taken = sources()->AcquireLease(source_, me_, kTtl, now());
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->owner.id, "me-1");
  EXPECT_EQ(taken->owner.pid, getpid());
}

TEST(ProcessIsGoneTest, AskesTheKernel) {
  EXPECT_FALSE(ProcessIsGone(getpid()));
  EXPECT_FALSE(ProcessIsGone(0));   // a process group, not a pid
  EXPECT_FALSE(ProcessIsGone(-1));
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_EQ(testing::WaitForExit(child), 0);
  EXPECT_TRUE(ProcessIsGone(child));
}

}  // namespace
}  // namespace converge
