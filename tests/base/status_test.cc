// Status and Result<T>: codes, context, retryability and moves.
#include "engine/base/status.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace converge {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, NamedConstructorsSetCodeAndRetryability) {
  struct Case {
    Status status;
    Code code;
    bool retryable;
    const char* text;
  };
  const Case cases[] = {
      {Status::Invalid("m"), Code::kInvalid, false, "invalid: m"},
      {Status::NotFound("m"), Code::kNotFound, false, "not found: m"},
      {Status::AlreadyExists("m"), Code::kAlreadyExists, false, "already exists: m"},
      {Status::Conflict("m"), Code::kConflict, false, "conflict: m"},
      {Status::Unavailable("m"), Code::kUnavailable, true, "unavailable: m"},
      {Status::Unavailable("m", false), Code::kUnavailable, false, "unavailable: m"},
      {Status::Timeout("m"), Code::kTimeout, true, "timeout: m"},
      {Status::PermissionDenied("m"), Code::kPermissionDenied, false, "permission denied: m"},
      {Status::Corrupt("m"), Code::kCorrupt, false, "corrupt: m"},
      {Status::Unsupported("m"), Code::kUnsupported, false, "unsupported: m"},
      {Status::Internal("m"), Code::kInternal, false, "internal: m"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.retryable(), c.retryable);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(c.status.ToString(), c.text);
  }
  EXPECT_TRUE(Status::NotFound("x").IsNotFound());
  EXPECT_FALSE(Status::Invalid("x").IsNotFound());
}

TEST(StatusTest, WithContextPrefixesAndKeepsCodeAndRetryability) {
  Status s = Status::Unavailable("connection refused").WithContext("cluster prod");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.message(), "cluster prod: connection refused");
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
  EXPECT_EQ(Status::Ok().WithContext("ignored").message(), "");
}

TEST(ResultTest, HoldsAValueOrAStatus) {
  Result<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  EXPECT_TRUE(v.status().ok());

  Result<int> e = Status::NotFound("no such cluster");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
  EXPECT_EQ(e.status().message(), "no such cluster");
}

TEST(ResultTest, MovesMoveOnlyValues) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("payload");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get()->size(), 7u);
  std::unique_ptr<std::string> taken = std::move(r).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "payload");

  Result<std::unique_ptr<std::string>> moved = Status::Internal("x");
  moved = std::make_unique<std::string>("again");
  Result<std::unique_ptr<std::string>> target = std::move(moved);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(**target, "again");
}

Status FailsAt(int step, int* reached) {
  for (int i = 0; i < 3; ++i) {
    *reached = i;
    CONVERGE_RETURN_IF_ERROR(i == step ? Status::Conflict("step " + std::to_string(i)) : Status::Ok());
  }
  return Status::Ok();
}

TEST(StatusTest, ReturnIfErrorStopsAtTheFirstError) {
  int reached = -1;
  Status s = FailsAt(1, &reached);
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.message(), "step 1");
  EXPECT_EQ(reached, 1);
  EXPECT_TRUE(FailsAt(5, &reached).ok());
  EXPECT_EQ(reached, 2);
}

}  // namespace
}  // namespace converge
