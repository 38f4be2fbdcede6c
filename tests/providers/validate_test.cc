// ValidateClouds: each Cloud's provider checks its part of the spec, and every problem names the
// file, line and column of the field, also when the file came from the parse cache.
#include "providers/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "engine/spec/spec.h"
#include "tests/testing/fake_provider.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

const char* const kCloudHead = "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c\nspec:\n";

SpecFile Inline(const std::string& path, const std::string& text, const std::string& blob_id = "") {
  return SpecFile{path, blob_id, [text]() -> Result<std::string> { return text; }};
}

// LoadSpecs (which must pass) then ValidateClouds against the global registry.
Status Validate(const std::vector<SpecFile>& files, ParseCache* cache = nullptr,
                const ProviderRegistry& registry = ProviderRegistry::Global()) {
  Result<SpecSet> specs = LoadSpecs(files, cache);
  EXPECT_TRUE(specs.ok()) << specs.status().message();
  if (!specs.ok()) return specs.status();
  return ValidateClouds(*specs, registry);
}

struct ValidateCase {
  std::string name;
  std::string yaml;      // after kCloudHead
  std::string expected;  // the whole message
};

class ValidateCloudsTest : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateCloudsTest, Reports) {
  Status st = Validate({Inline("f.yaml", kCloudHead + GetParam().yaml)});
  if (GetParam().expected.empty()) {
    EXPECT_TRUE(st.ok()) << st.message();
  } else {
    EXPECT_EQ(st.code(), Code::kInvalid);
    EXPECT_EQ(st.message(), GetParam().expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateCloudsTest,
    ::testing::Values(
        ValidateCase{"Valid", "  provider: sim\n  region: a\n  simulation: {scaleSeconds: 0.5}\n", ""},
        // Moved from tests/spec (the credential keys are the provider's).
        ValidateCase{"UnknownCredentialKey", "  provider: sim\n  region: a\n  credentials:\n    secretKey: s3cr3t\n",
                     "f.yaml:9:5: Cloud \"c\": unknown field spec.credentials.secretKey (did you mean "
                     "spec.credentials.secretKeyEnv?)"},
        ValidateCase{"NegativeSimulationTime", "  provider: sim\n  region: a\n  simulation: {scaleSeconds: -1}\n",
                     "f.yaml:8:16: Cloud \"c\": spec.simulation.scaleSeconds must be >= 0, got integer -1"},
        ValidateCase{"UnknownProvider", "  region: a\n  provider: foo\n",
                     "f.yaml:7:3: Cloud \"c\": unknown provider \"foo\" (known: sim)"},
        ValidateCase{"UnknownSpecField", "  provider: sim\n  region: a\n  zone: z\n",
                     "f.yaml:8:3: Cloud \"c\": unknown field spec.zone; known fields: provider, region, regions, "
                     "endpoint, credentials, simulation"},
        ValidateCase{"EveryProblemSortedByPosition",
                     "  provider: sim\n  region: a\n  simulation:\n    scaleSeconds: -1\n    podStartSecond: 2\n"
                     "  credentials:\n    token: x\n",
                     "f.yaml:9:5: Cloud \"c\": spec.simulation.scaleSeconds must be >= 0, got integer -1\n"
                     "f.yaml:10:5: Cloud \"c\": unknown field spec.simulation.podStartSecond (did you mean "
                     "spec.simulation.podStartSeconds?)\n"
                     "f.yaml:12:5: Cloud \"c\": unknown field spec.credentials.token (did you mean "
                     "spec.credentials.tokenEnv?)"}),
    [](const auto& info) { return info.param.name; });

TEST(ValidateCloudsTest, PositionsComeFromTheParseCacheToo) {
  class MemoryCache : public ParseCache {
   public:
    std::optional<std::string> Get(const std::string& id) override {
      auto it = entries.find(id);
      return it == entries.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    Status Put(const std::string& id, const std::string& parsed) override {
      entries[id] = parsed;
      return Status::Ok();
    }
    std::map<std::string, std::string> entries;
  } cache;
  std::string text = std::string(kCloudHead) + "  provider: sim\n  region: a\n  simulation:\n    podStart: 1\n";
  Status miss = Validate({Inline("clouds/c.yaml", text, "blob-1")}, &cache);
  ASSERT_EQ(cache.entries.size(), 1u);  // per-file checks passed: cached
  SpecFile from_cache{"clouds/c.yaml", "blob-1", []() -> Result<std::string> { return Status::Internal("not read"); }};
  Status hit = Validate({from_cache}, &cache);
  EXPECT_EQ(miss.message(),
            "clouds/c.yaml:9:5: Cloud \"c\": unknown field spec.simulation.podStart (did you mean "
            "spec.simulation.podStartSeconds?)");
  EXPECT_EQ(hit.message(), miss.message());
}

TEST(ValidateCloudsTest, PathsWithoutAPositionUseTheNearestField) {
  testing::FakeProvider fake("fake");
  ProviderRegistry registry;
  testing::ScopedRegistration installed = fake.Install(registry);
  fake.SetConfigDiagnostics({{{"spec", "simulation", "missing"}, "needs missing"},
                             {{"spec", "absent"}, "needs absent"},
                             {{}, "the whole document"}});
  Status st = Validate({Inline("f.yaml", std::string(kCloudHead) + "  provider: fake\n  region: a\n  simulation: {}\n")},
                       nullptr, registry);
  EXPECT_EQ(st.message(),
            "f.yaml:1: Cloud \"c\": the whole document\n"
            "f.yaml:5:1: Cloud \"c\": needs absent\n"
            "f.yaml:8:3: Cloud \"c\": needs missing");
  EXPECT_EQ(fake.CallCount("ValidateConfig"), 1);
}

TEST(ValidateCloudsTest, CredentialValuesAreNeverEchoed) {
  Status st = Validate({Inline("f.yaml", std::string(kCloudHead) +
                                             "  provider: sim\n  region: a\n  credentials:\n    secret: p4ssw0rd\n")});
  EXPECT_THAT(st.message(), HasSubstr("spec.credentials.secret"));
  EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("p4ssw0rd")));
}

}  // namespace
}  // namespace converge
