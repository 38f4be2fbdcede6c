// Tests of engine/spec: YAML -> JSON typing, per-document and strict Cloud/Cluster validation with
// file:line:col messages, cross-file checks, and the parse cache. Fixtures: tests/testdata/spec.
#include "engine/spec/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "engine/base/hash.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

std::string ReadFixture(const std::string& rel) {
  std::ifstream in(std::string(CONVERGE_SOURCE_DIR) + "/tests/testdata/spec/" + rel, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A SpecFile over a fixture; every call of read() increments *reads.
SpecFile Fixture(const std::string& rel, int* reads = nullptr) {
  std::string text = ReadFixture(rel);
  SpecFile f;
  f.path = rel;
  f.blob_id = Sha256Hex(text);
  f.read = [text, reads]() -> Result<std::string> {
    if (reads) ++*reads;
    return text;
  };
  return f;
}

SpecFile Inline(const std::string& path, const std::string& text) {
  return SpecFile{path, "", [text]() -> Result<std::string> { return text; }};
}

std::vector<SpecFile> ValidFleet(int* reads = nullptr) {
  return {Fixture("valid/clouds.yaml", reads), Fixture("valid/clusters.yaml", reads),
          Fixture("valid/apps.yaml", reads)};
}

class MemoryCache : public ParseCache {
 public:
  std::optional<std::string> Get(const std::string& blob_id) override {
    auto it = entries.find(blob_id);
    if (it == entries.end()) return std::nullopt;
    return it->second;
  }
  Status Put(const std::string& blob_id, const std::string& parsed) override {
    ++puts;
    if (!put_error.ok()) return put_error;
    entries[blob_id] = parsed;
    return Status::Ok();
  }
  std::map<std::string, std::string> entries;
  Status put_error;  // what Put returns when set
  int puts = 0;
};

std::string ErrorOf(const std::vector<SpecFile>& files) {
  Result<SpecSet> r = LoadSpecs(files, nullptr);
  EXPECT_FALSE(r.ok()) << "expected LoadSpecs to fail";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  return r.status().message();
}

// JSON text that also records each number's representation, so that equal dumps mean equal trees.
std::string TypedDump(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      std::string out = "{";
      for (const auto& [k, v] : j.items()) out += Json(k).dump() + ":" + TypedDump(v) + ",";
      return out + "}";
    }
    case Json::value_t::array: {
      std::string out = "[";
      for (const auto& v : j) out += TypedDump(v) + ",";
      return out + "]";
    }
    case Json::value_t::number_unsigned:
      return "u" + j.dump();
    case Json::value_t::number_integer:
      return "i" + j.dump();
    case Json::value_t::number_float:
      return "f" + j.dump();
    default:
      return j.dump();
  }
}

std::string DumpManifest(const Manifest& m) {
  return m.key.group + "|" + m.key.ToString() + "|" + m.api_version + "|" + m.Where() + "|" +
         (m.body ? TypedDump(*m.body) : "null");
}

// Every field of a SpecSet as text.
std::string DumpSpecSet(const SpecSet& s) {
  std::string out;
  for (const auto& c : s.clouds) {
    out += "cloud " + c.name + " " + c.provider + " " + c.region + " " + c.endpoint + " [";
    for (const auto& r : c.regions) out += r + ",";
    out += "] {";
    for (const auto& [k, v] : c.credentials) out += k + "=" + v + ",";
    out += "} " + (c.config ? TypedDump(*c.config) : "null") + " {";
    for (const auto& [pointer, at] : c.positions)
      out += pointer + "@" + std::to_string(at.line) + ":" + std::to_string(at.column) + ",";
    out += "} " + DumpManifest(c.manifest) + "\n";
  }
  for (const auto& c : s.clusters) {
    out += "cluster " + c.name + " " + c.cloud + " " + c.version + " " + c.region + " " + c.zone + " {";
    for (const auto& [k, v] : c.network) out += k + "=" + v + ",";
    out += "} {";
    for (const auto& [k, v] : c.labels) out += k + "=" + v + ",";
    out += "} " + std::to_string(c.deletion_protection) + " [";
    for (const auto& p : c.node_pools)
      out += p.name + " " + p.flavor + " " + p.arch + " " + std::to_string(p.count) + " " + std::to_string(p.min) +
             " " + std::to_string(p.max) + ";";
    out += "] " + DumpManifest(c.manifest) + "\n";
  }
  for (const auto& m : s.manifests) out += "manifest " + DumpManifest(m) + "\n";
  for (const auto& w : s.warnings) out += "warning " + w.ToString() + "\n";
  return out;
}

TEST(LoadSpecsTest, ValidFleetFillsTypedCloudsAndClusters) {
  Result<SpecSet> r = LoadSpecs(ValidFleet(), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const SpecSet& s = *r;

  ASSERT_EQ(s.clouds.size(), 2u);
  const CloudSpec& sim = s.clouds[0];
  EXPECT_EQ(sim.name, "sim-eu");
  EXPECT_EQ(sim.provider, "sim");
  EXPECT_EQ(sim.region, "eu-west-1");
  EXPECT_EQ(sim.regions, (std::vector<std::string>{"eu-west-1", "eu-west-2"}));
  // The provider's own fields reach it as written (the sim reads and checks `simulation`).
  ASSERT_NE(sim.config, nullptr);
  EXPECT_EQ(*sim.config, (*sim.manifest.body)["spec"]);
  EXPECT_DOUBLE_EQ((*sim.config)["simulation"]["clusterCreateSeconds"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ((*sim.config)["simulation"]["podStartSeconds"].get<double>(), 0);
  EXPECT_DOUBLE_EQ((*sim.config)["simulation"]["upgradeStepSeconds"].get<double>(), 2);
  EXPECT_EQ(sim.manifest.key.ToString(), "Cloud/sim-eu");
  EXPECT_EQ(sim.manifest.key.group, "converge.dev");
  EXPECT_EQ(sim.manifest.Where(), "valid/clouds.yaml:2");
  const CloudSpec& hwc = s.clouds[1];
  EXPECT_EQ(hwc.regions, (std::vector<std::string>{"cn-north-4"}));  // defaults to {region}
  EXPECT_EQ(hwc.endpoint, "https://cce.cn-north-4.myhuaweicloud.com");
  EXPECT_EQ(hwc.credentials.at("accessKeyEnv"), "HWC_AK");
  EXPECT_FALSE(hwc.config->contains("simulation"));  // defaults are the provider's business
  EXPECT_EQ(hwc.manifest.line, 18);

  ASSERT_EQ(s.clusters.size(), 2u);
  const ClusterSpec& prod = s.clusters[0];
  EXPECT_EQ(prod.name, "prod-eu");
  EXPECT_EQ(prod.cloud, "sim-eu");
  EXPECT_EQ(prod.version, "1.29");
  EXPECT_EQ(prod.region, "eu-west-2");
  EXPECT_EQ(prod.zone, "eu-west-2a");
  EXPECT_EQ(prod.network, (std::map<std::string, std::string>{{"podCIDR", "10.0.0.0/16"}, {"vpc", "vpc-1"}}));
  EXPECT_EQ(prod.labels.at("tier"), "prod");
  EXPECT_TRUE(prod.deletion_protection);
  ASSERT_EQ(prod.node_pools.size(), 2u);
  EXPECT_EQ(prod.node_pools[0].name, "general");
  EXPECT_EQ(prod.node_pools[0].arch, "x86_64");  // default
  EXPECT_EQ(prod.node_pools[0].count, 3);
  EXPECT_EQ(prod.node_pools[1].arch, "arm64");
  EXPECT_EQ(prod.node_pools[1].count, 2);  // defaults to min
  EXPECT_EQ(prod.node_pools[1].min, 2);
  EXPECT_EQ(prod.node_pools[1].max, 5);
  const ClusterSpec& staging = s.clusters[1];
  EXPECT_EQ(staging.version, "v1.30");      // kept as given
  EXPECT_EQ(staging.region, "cn-north-4");  // the cloud's region
  EXPECT_FALSE(staging.deletion_protection);
  EXPECT_EQ(staging.node_pools[0].count, 1);

  // Cloud and Cluster documents are not application manifests.
  ASSERT_EQ(s.manifests.size(), 3u);
  EXPECT_EQ(s.manifests[0].key.ToString(), "Namespace/guestbook");
  EXPECT_EQ(s.manifests[1].key.ToString(), "Deployment/guestbook/frontend");
  EXPECT_EQ(s.manifests[1].key.group, "apps");
  EXPECT_EQ(s.manifests[1].api_version, "apps/v1");
  EXPECT_EQ(s.manifests[1].Where(), "valid/apps.yaml:6");
  EXPECT_EQ((*s.manifests[1].body)["metadata"]["annotations"]["converge.dev/cluster-selector"], "tier=prod");
  EXPECT_EQ(s.manifests[2].key.ToString(), "ConfigMap/default/settings");
}

TEST(ParseYamlTest, MalformedYamlNamesLineAndColumn) {
  Result<std::vector<Manifest>> r = ParseYaml("malformed.yaml", ReadFixture("malformed.yaml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "malformed.yaml:7:8: YAML syntax error: end of sequence flow not found");
}

struct InvalidFixtureCase {
  std::string fixture;
  std::string expected;  // one full line of the message
};

class InvalidFixtureTest : public ::testing::TestWithParam<InvalidFixtureCase> {};

TEST_P(InvalidFixtureTest, MessageNamesFilePositionObjectAndField) {
  EXPECT_THAT(ErrorOf({Fixture(GetParam().fixture)}), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, InvalidFixtureTest,
    ::testing::Values(
        InvalidFixtureCase{"unknown_field.yaml",
                           "unknown_field.yaml:8:3: Cluster \"prod\": unknown field spec.nodePool (did you mean "
                           "spec.nodePools?)"},
        InvalidFixtureCase{"wrong_type.yaml",
                           "wrong_type.yaml:11:14: Cluster \"prod\": spec.nodePools[0].count must be an integer, "
                           "got string \"three\""},
        InvalidFixtureCase{"no_name.yaml", "no_name.yaml:4:3: Deployment \"\": metadata.name is required"},
        InvalidFixtureCase{"cluster_scoped_ns.yaml",
                           "cluster_scoped_ns.yaml:5:14: ClusterRole \"reader\": metadata.namespace must not be "
                           "set: ClusterRole is cluster-scoped; remove the namespace"},
        InvalidFixtureCase{"unknown_cloud.yaml",
                           "unknown_cloud.yaml:14:10: Cluster \"prod\": spec.cloud \"aws\" names no Cloud; known "
                           "clouds: sim-eu (unknown_cloud.yaml:1)"}),
    [](const auto& info) {
      std::string name = info.param.fixture.substr(0, info.param.fixture.find('.'));
      for (char& c : name)
        if (c == '_') c = 'X';
      return name;
    });

TEST(LoadSpecsTest, UnknownFieldAlsoReportsTheMissingRequiredField) {
  std::string msg = ErrorOf({Fixture("unknown_field.yaml")});
  EXPECT_EQ(msg,
            "unknown_field.yaml:6:3: Cluster \"prod\": spec.nodePools is required\n"
            "unknown_field.yaml:8:3: Cluster \"prod\": unknown field spec.nodePool (did you mean spec.nodePools?)");
}

struct StrictCase {
  std::string name;
  std::string yaml;
  std::string expected;
};

class StrictCheckTest : public ::testing::TestWithParam<StrictCase> {};

TEST_P(StrictCheckTest, Reports) {
  EXPECT_THAT(ErrorOf({Inline("f.yaml", GetParam().yaml)}), HasSubstr(GetParam().expected));
}

const char* const kCloudHead = "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c\nspec:\n";
const char* const kClusterHead =
    "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c\nspec:\n  provider: sim\n"
    "  region: r1\n  regions: [r1, r2]\n---\n"
    "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: k\nspec:\n  cloud: c\n";

INSTANTIATE_TEST_SUITE_P(
    Rules, StrictCheckTest,
    ::testing::Values(
        StrictCase{"VersionWrittenAsNumber",
                   std::string(kClusterHead) + "  version: 1.30\n  nodePools: [{name: a, flavor: f}]\n",
                   "f.yaml:16:12: Cluster \"k\": spec.version must be a string, got number 1.3 (quote the value"},
        StrictCase{"VersionPattern",
                   std::string(kClusterHead) + "  version: \"1.29.3\"\n  nodePools: [{name: a, flavor: f}]\n",
                   "f.yaml:16:12: Cluster \"k\": spec.version \"1.29.3\" must be a Kubernetes minor version"},
        StrictCase{"NoNodePools", std::string(kClusterHead) + "  version: \"1.29\"\n  nodePools: []\n",
                   "f.yaml:17:14: Cluster \"k\": spec.nodePools must list at least one node pool"},
        StrictCase{"DuplicatePoolName",
                   std::string(kClusterHead) +
                       "  version: \"1.29\"\n  nodePools:\n  - {name: a, flavor: f}\n  - {name: a, flavor: g}\n",
                   "f.yaml:19:12: Cluster \"k\": node pool name \"a\" is used twice: spec.nodePools[0] and "
                   "spec.nodePools[1]"},
        StrictCase{"PoolNameNotDnsLabel",
                   std::string(kClusterHead) + "  version: \"1.29\"\n  nodePools: [{name: Big_Pool, flavor: f}]\n",
                   "spec.nodePools[0].name \"Big_Pool\" must be a DNS label"},
        StrictCase{
            "Arch",
            std::string(kClusterHead) + "  version: \"1.29\"\n  nodePools: [{name: a, flavor: f, arch: amd64}]\n",
            "spec.nodePools[0].arch must be \"x86_64\" or \"arm64\", got \"amd64\" (did you mean \"x86_64\"?)"},
        StrictCase{"CountOutsideMinMax",
                   std::string(kClusterHead) +
                       "  version: \"1.29\"\n  nodePools: [{name: a, flavor: f, min: 2, max: 4, count: 5}]\n",
                   "spec.nodePools[0].count (5) must be between min (2) and max (4)"},
        StrictCase{"MinWithoutMax",
                   std::string(kClusterHead) + "  version: \"1.29\"\n  nodePools: [{name: a, flavor: f, min: 2}]\n",
                   "spec.nodePools[0].max is required when spec.nodePools[0].min is given"},
        StrictCase{
            "RegionNotOfferedByCloud",
            std::string(kClusterHead) + "  version: \"1.29\"\n  region: r9\n  nodePools: [{name: a, flavor: f}]\n",
            "f.yaml:17:11: Cluster \"k\": spec.region \"r9\" is not offered by Cloud \"c\" (f.yaml:1), "
            "whose regions are: r1, r2"},
        StrictCase{"CloudMissingRegion", std::string(kCloudHead) + "  provider: sim\n",
                   "f.yaml:6:3: Cloud \"c\": spec.region is required"},
        StrictCase{"CloudRegionNotInRegions",
                   std::string(kCloudHead) + "  provider: sim\n  region: a\n  regions: [b]\n",
                   "f.yaml:7:11: Cloud \"c\": spec.region \"a\" is not one of spec.regions [\"b\"]"},
        StrictCase{"LabelValueNotString",
                   "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c\n  labels:\n    gpu: true\n"
                   "spec: {provider: sim, region: a}\n",
                   "f.yaml:6:10: Cloud \"c\": metadata.labels.gpu must be a string, got boolean true"},
        StrictCase{"CloudNameNotDnsName",
                   "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata: {name: My_Cloud}\n"
                   "spec: {provider: sim, region: a}\n",
                   "f.yaml:3:18: Cloud \"My_Cloud\": metadata.name \"My_Cloud\" must be a DNS name"},
        StrictCase{"ClusterWithNamespace",
                   std::string(kClusterHead) +
                       "  version: \"1.29\"\n  nodePools: [{name: a, flavor: f}]\n"
                       "---\napiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata: {name: k2, namespace: x}\n",
                   "f.yaml:21:33: Cluster \"k2\": metadata.namespace must not be set: Cluster is cluster-scoped"},
        StrictCase{"UnknownConvergeKind", "apiVersion: converge.dev/v1alpha1\nkind: Clustr\nmetadata: {name: x}\n",
                   "f.yaml:2:7: Clustr \"x\": unknown kind Clustr in converge.dev/v1alpha1 (did you mean Cluster?)"},
        StrictCase{"TriggerNotSupportedYet", "apiVersion: converge.dev/v1alpha1\nkind: Trigger\nmetadata: {name: x}\n",
                   "f.yaml:2:7: Trigger \"x\": kind Trigger is not supported yet"},
        StrictCase{"OtherConvergeVersion", "apiVersion: converge.dev/v2\nkind: Cloud\nmetadata: {name: x}\n",
                   "f.yaml:1:13: Cloud \"x\": apiVersion converge.dev/v2 is not supported; use converge.dev/v1alpha1"},
        StrictCase{"DocumentNotAMap", "- a\n- b\n", "f.yaml:1:1: document is a list; every document must be a map"},
        StrictCase{"DuplicateKey", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
                   "f.yaml:5:3: duplicate key \"name\" (first at line 4)"},
        StrictCase{"MissingKind", "apiVersion: v1\nmetadata: {name: a}\n",
                   "f.yaml:1:1: object \"a\": kind is required"}),
    [](const auto& info) { return info.param.name; });

// Fields of a Cloud's spec other than the shared ones are its provider's to check
// (tests/providers/validate_test.cc); the engine passes them on with their positions.
TEST(LoadSpecsTest, ProviderFieldsOfACloudPassWithTheirPositions) {
  Result<SpecSet> r = LoadSpecs({Inline("f.yaml", std::string(kCloudHead) +
                                                      "  provider: other\n  region: a\n  credentials:\n"
                                                      "    secretKey: S\n  simulation: {scaleSeconds: -1}\n"
                                                      "  zones:\n  - z1\n  - name: z2\n")},
                                nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->clouds.size(), 1u);
  const CloudSpec& c = r->clouds[0];
  EXPECT_EQ(c.credentials, (std::map<std::string, std::string>{{"secretKey", "S"}}));
  EXPECT_EQ((*c.config)["simulation"]["scaleSeconds"], -1);
  auto at = [&](const std::string& pointer) {
    auto it = c.positions.find(pointer);
    return it == c.positions.end() ? std::string("none")
                                   : std::to_string(it->second.line) + ":" + std::to_string(it->second.column);
  };
  EXPECT_EQ(at("/spec"), "5:1");
  EXPECT_EQ(at("/spec/provider"), "6:3");
  EXPECT_EQ(at("/spec/credentials/secretKey"), "9:5");
  EXPECT_EQ(at("/spec/simulation/scaleSeconds"), "10:16");
  EXPECT_EQ(at("/spec/zones/0"), "12:5");
  EXPECT_EQ(at("/spec/zones/1/name"), "13:5");
  EXPECT_EQ(at("/metadata"), "none");  // only the spec's fields
}

TEST(LoadSpecsTest, CloudFieldPositionsDoNotDependOnKeyOrder) {
  // Recorded while parsing when kind comes first; found in the YAML tree when it comes last.
  const std::string spec = "spec:\n  provider: sim\n  region: a\n  regions:\n  - a\n  simulation: {scaleSeconds: 1}\n";
  const std::string head = "apiVersion: converge.dev/v1alpha1\nmetadata:\n  name: c\n";
  Result<SpecSet> first = LoadSpecs({Inline("f.yaml", head + "kind: Cloud\n" + spec)}, nullptr);
  Result<SpecSet> last = LoadSpecs({Inline("f.yaml", "\n" + head + spec + "kind: Cloud\n")}, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(first->clouds[0].positions.size(), 7u);
  auto text = [](const CloudSpec& c) {
    std::string out;
    for (const auto& [pointer, at] : c.positions)
      out += pointer + "@" + std::to_string(at.line) + ":" + std::to_string(at.column) + " ";
    return out;
  };
  EXPECT_EQ(text(first->clouds[0]),
            "/spec@5:1 /spec/provider@6:3 /spec/region@7:3 /spec/regions@8:3 /spec/regions/0@9:5 "
            "/spec/simulation@10:3 /spec/simulation/scaleSeconds@10:16 ");
  // The blank first line keeps spec on line 5 with kind moved to the end.
  EXPECT_EQ(text(last->clouds[0]),
            "/spec@5:1 /spec/provider@6:3 /spec/region@7:3 /spec/regions@8:3 /spec/regions/0@9:5 "
            "/spec/simulation@10:3 /spec/simulation/scaleSeconds@10:16 ");
}

TEST(LoadSpecsTest, CloudFieldPositionsSurviveTheCache) {
  MemoryCache cache;
  SpecFile f = Inline("f.yaml", std::string(kCloudHead) + "  provider: sim\n  region: a\n  simulation:\n"
                                                          "    podStartSeconds: 2\n");
  f.blob_id = "cloud";
  Result<SpecSet> miss = LoadSpecs({f}, &cache);
  ASSERT_TRUE(miss.ok()) << miss.status().message();
  int reads = 0;
  f.read = [&reads]() -> Result<std::string> {
    ++reads;
    return Status::Internal("not read on a hit");
  };
  Result<SpecSet> hit = LoadSpecs({f}, &cache);
  ASSERT_TRUE(hit.ok()) << hit.status().message();
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(hit->clouds[0].positions.at("/spec/simulation/podStartSeconds").line, 9);
  EXPECT_EQ(DumpSpecSet(*hit), DumpSpecSet(*miss));
}

TEST(LoadSpecsTest, CredentialValuesAreNeverEchoed) {
  std::string msg = ErrorOf(
      {Inline("f.yaml", std::string(kCloudHead) + "  provider: cce\n  region: a\n  credentials:\n"
                                                  "    accessKeyEnv: AKIA/very+secret\n    tokenEnv: 12345\n")});
  EXPECT_THAT(msg, HasSubstr("spec.credentials.accessKeyEnv must name an environment variable"));
  EXPECT_THAT(msg, HasSubstr("spec.credentials.tokenEnv must be a string, got an integer"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("secret\"")));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("AKIA")));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("12345")));
}

TEST(LoadSpecsTest, DuplicateIdentityNamesBothFiles) {
  std::string msg = ErrorOf({Fixture("dup/a.yaml"), Fixture("dup/b.yaml")});
  EXPECT_EQ(msg,
            "dup/b.yaml:8: HorizontalPodAutoscaler/web/frontend is defined twice: dup/a.yaml:1 and dup/b.yaml:8; "
            "remove one of them");
}

TEST(ParseYamlTest, MultiDocumentSkipsEmptyDocumentsAndKeepsLines) {
  Result<std::vector<Manifest>> r = ParseYaml("multi.yaml", ReadFixture("multidoc_empty.yaml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].key.name, "first");
  EXPECT_EQ((*r)[0].Where(), "multi.yaml:6");
  EXPECT_EQ((*r)[1].key.name, "second");
  EXPECT_EQ((*r)[1].Where(), "multi.yaml:13");
}

TEST(ParseYamlTest, EmptyFileHasNoDocuments) {
  for (const char* text : {"", "# only a comment\n", "---\n---\n"}) {
    Result<std::vector<Manifest>> r = ParseYaml("e.yaml", text);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->empty()) << text;
  }
}

TEST(ParseYamlTest, PlainScalarsAreTypedAndQuotedOnesStayStrings) {
  Result<std::vector<Manifest>> r = ParseYaml("scalars.yaml", ReadFixture("scalars.yaml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Json& data = (*(*r)[0].body)["data"];
  struct Case {
    const char* key;
    Json expected;
  };
  const Case cases[] = {
      {"plainTrue", true},    {"plainFalse", false},
      {"quotedTrue", "true"}, {"plainNull", nullptr},
      {"tilde", nullptr},     {"empty", nullptr},
      {"quotedNull", "null"}, {"int", 42},
      {"negative", -7},       {"quotedInt", "42"},
      {"singleQuoted", "42"}, {"float", 1.5},
      {"exponent", 1000.0},   {"version", 1.3},
      {"octal", 420},         {"hex", 31},
      {"yes", "yes"},         {"no", "no"},
      {"on", "on"},           {"off", "off"},
      {"tagged", "12"},       {"text", "hello world"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(data.contains(c.key)) << c.key;
    EXPECT_EQ(data[c.key], c.expected) << c.key;
    EXPECT_EQ(data[c.key].type(), c.expected.type() == Json::value_t::number_integer && c.expected >= 0
                                      ? Json::value_t::number_unsigned
                                      : c.expected.type())
        << c.key;
  }
  EXPECT_TRUE(data["negative"].is_number_integer());
  EXPECT_TRUE(data["float"].is_number_float());
  EXPECT_TRUE(data["exponent"].is_number_float());
}

TEST(ParseYamlTest, AnchorsAndAliasesAreExpanded) {
  Result<std::vector<Manifest>> r = ParseYaml(
      "a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  base: &b {x: \"1\"}\n  copy: *b\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*(*r)[0].body)["data"]["copy"], Json({{"x", "1"}}));
}

TEST(ParseYamlTest, ExponentialAliasesAreRefused) {
  std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", " : "") + prev;
    text += "]\n";
  }
  Result<std::vector<Manifest>> r = ParseYaml("bomb.yaml", text);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("bomb.yaml: aliases expand to more than"));
}

TEST(ParseYamlTest, MapKeyThatIsAListIsRefused) {
  Result<std::vector<Manifest>> r =
      ParseYaml("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n? [a, b]\n: c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "k.yaml:4:3: map key must be a scalar, not a list or map");
}

TEST(ParseYamlTest, KnownNamespacedKindsDefaultToDefaultNamespace) {
  Result<std::vector<Manifest>> r = ParseYaml("ns.yaml", ReadFixture("namespaces.yaml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  const auto& defaulted = (*r)[0];
  EXPECT_EQ(defaulted.key.ns, "default");
  EXPECT_EQ((*defaulted.body)["metadata"]["namespace"], "default");  // in the body too
  EXPECT_EQ((*r)[1].key.ns, "shop");
  EXPECT_EQ((*r)[2].key.ns, "");  // unknown kind: as written
  EXPECT_FALSE((*(*r)[2].body)["metadata"].contains("namespace"));
  EXPECT_EQ((*r)[3].key.ns, "");  // cluster-scoped
}

TEST(LoadSpecsTest, CacheHitEqualsMissAndSkipsRead) {
  MemoryCache cache;
  int reads = 0;
  Result<SpecSet> miss = LoadSpecs(ValidFleet(&reads), &cache);
  ASSERT_TRUE(miss.ok()) << miss.status().message();
  EXPECT_EQ(reads, 3);
  EXPECT_EQ(cache.puts, 3);

  reads = 0;
  Result<SpecSet> hit = LoadSpecs(ValidFleet(&reads), &cache);
  ASSERT_TRUE(hit.ok()) << hit.status().message();
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(cache.puts, 3);
  EXPECT_EQ(DumpSpecSet(*hit), DumpSpecSet(*miss));
  EXPECT_FALSE(DumpSpecSet(*hit).empty());
}

TEST(LoadSpecsTest, CacheHitKeepsScalarTypes) {
  MemoryCache cache;
  Result<SpecSet> miss = LoadSpecs({Fixture("scalars.yaml")}, &cache);
  ASSERT_TRUE(miss.ok()) << miss.status().message();
  int reads = 0;
  Result<SpecSet> hit = LoadSpecs({Fixture("scalars.yaml", &reads)}, &cache);
  ASSERT_TRUE(hit.ok()) << hit.status().message();
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(DumpSpecSet(*hit), DumpSpecSet(*miss));
}

TEST(LoadSpecsTest, CacheHitStillRunsCrossFileChecksWithTheSamePositions) {
  MemoryCache cache;
  std::string miss = ErrorOf({Fixture("valid/clusters.yaml")});
  ASSERT_TRUE(LoadSpecs({Fixture("valid/clusters.yaml")}, &cache).status().message() == miss);
  EXPECT_EQ(cache.puts, 1);  // the file itself is valid: cached
  int reads = 0;
  Result<SpecSet> hit = LoadSpecs({Fixture("valid/clusters.yaml", &reads)}, &cache);
  ASSERT_FALSE(hit.ok());
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(hit.status().message(), miss);
  EXPECT_THAT(miss, HasSubstr("valid/clusters.yaml:9:10: Cluster \"prod-eu\": spec.cloud \"sim-eu\" names no Cloud; "
                              "no Cloud is defined"));
}

TEST(LoadSpecsTest, FilesWithErrorsAreNotCached) {
  MemoryCache cache;
  int reads = 0;
  EXPECT_FALSE(LoadSpecs({Fixture("wrong_type.yaml", &reads)}, &cache).ok());
  EXPECT_FALSE(LoadSpecs({Fixture("wrong_type.yaml", &reads)}, &cache).ok());
  EXPECT_EQ(cache.puts, 0);
  EXPECT_EQ(reads, 2);
}

TEST(LoadSpecsTest, DamagedCacheEntryIsParsedAgain) {
  MemoryCache cache;
  SpecFile f = Fixture("valid/apps.yaml");
  cache.entries[f.blob_id] = "{not json";
  Result<SpecSet> r = LoadSpecs({f}, &cache);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->manifests.size(), 3u);
  EXPECT_EQ(cache.puts, 1);
}

TEST(LoadSpecsTest, AFailedCacheWriteIsAWarningNamingTheFile) {
  MemoryCache cache;
  cache.put_error = Status::Unavailable("disk full", false);
  std::ostringstream logged;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  Result<SpecSet> r = LoadSpecs({Fixture("valid/apps.yaml")}, &cache);
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(r.ok()) << r.status().message();  // the load does not fail for it
  EXPECT_EQ(r->manifests.size(), 3u);
  EXPECT_EQ(cache.puts, 1);
  EXPECT_THAT(logged.str(), HasSubstr("[warning] valid/apps.yaml: cannot cache the parsed file: disk full"));
}

TEST(LoadSpecsTest, NonUtf8TextIsAnErrorAndNotCached) {
  // Kubernetes objects are UTF-8 JSON: a Latin-1 file would fail later, half-applied.
  MemoryCache cache;
  SpecFile f =
      Inline("latin1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {city: \"M\xfcnchen\"}\n");
  f.blob_id = "latin1";
  Result<SpecSet> r = LoadSpecs({f}, &cache);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("latin1.yaml:1: the document holds text that is not valid UTF-8"));
  EXPECT_EQ(cache.puts, 0);
  std::string msg =
      ErrorOf({Inline("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"\xff\"}\nx: 1\nx: 2\n")});
  EXPECT_THAT(msg, HasSubstr("bad.yaml:5:1: duplicate key \"x\""));
}

TEST(LoadSpecsTest, ReadFailureNamesTheFile) {
  SpecFile f{"apps/gone.yaml", "abc", [] { return Result<std::string>(Status::NotFound("blob abc missing")); }};
  EXPECT_EQ(ErrorOf({f}), "apps/gone.yaml: cannot read the file: blob abc missing");
}

TEST(LoadSpecsTest, ErrorsAreAggregatedAcrossFilesAndSortedByFileThenLine) {
  std::string msg = ErrorOf({Fixture("aggregate/two.yaml"), Fixture("aggregate/one.yaml"), Fixture("malformed.yaml")});
  EXPECT_EQ(msg,
            "aggregate/one.yaml:4:3: ConfigMap \"\": metadata.name is required\n"
            "aggregate/one.yaml:12:12: Cluster \"prod\": spec.version must be a string, got number 1.3 (quote the "
            "value to keep it a string, e.g. \"1.30\")\n"
            "aggregate/one.yaml:16:14: Cluster \"prod\": spec.nodePools[0].count must be >= 0, got integer -1\n"
            "aggregate/two.yaml:2:7: Workflow \"drill\": kind Workflow is not supported yet by this version of "
            "converge\n"
            "aggregate/two.yaml:10:3: duplicate key \"name\" (first at line 9); each key may appear once in a map\n"
            "malformed.yaml:7:8: YAML syntax error: end of sequence flow not found");
}

TEST(LoadSpecsTest, ResultIsDeterministic) {
  Result<SpecSet> a = LoadSpecs(ValidFleet(), nullptr);
  Result<SpecSet> b = LoadSpecs(ValidFleet(), nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(DumpSpecSet(*a), DumpSpecSet(*b));
}

// --- Kubernetes' own validation (engine/k8s), reported by file:line:column and field

// The message LoadSpecs gives for one file (empty when it loads).
std::string LoadError(const std::string& path, const std::string& text) {
  Result<SpecSet> r = LoadSpecs({Inline(path, text)}, nullptr);
  return r.ok() ? "" : r.status().message();
}

constexpr const char* kDeploymentYaml =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  replicas: REPLICAS\n"
    "  selector:\n"
    "    matchLabels: {app: web}\n"
    "  template:\n"
    "    metadata:\n"
    "      labels: {app: web}\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: web\n"
    "          image: nginx:1.27\n";

std::string DeploymentWith(const std::string& replicas) {
  std::string text = kDeploymentYaml;
  text.replace(text.find("REPLICAS"), 8, replicas);
  return text;
}

TEST(KubernetesValidationTest, ReplicasAreCheckedWithTheirPosition) {
  EXPECT_EQ(LoadError("d.yaml", DeploymentWith("3")), "");
  EXPECT_EQ(LoadError("d.yaml", DeploymentWith("-3")),
            "d.yaml:6:13: Deployment \"web\": spec.replicas must be 0 or more, got -3");
  EXPECT_EQ(LoadError("d.yaml", DeploymentWith("\"3\"")),
            "d.yaml:6:13: Deployment \"web\": spec.replicas must be an integer (int32), got string \"3\" (remove the "
            "quotes: 3)");
  EXPECT_EQ(LoadError("d.yaml", DeploymentWith("1e20")),
            "d.yaml:6:13: Deployment \"web\": spec.replicas must be an integer (int32), got number 1e+20");
  EXPECT_EQ(LoadError("d.yaml", DeploymentWith("2000000000")), "");
}

TEST(KubernetesValidationTest, UnknownFieldIsReportedAtItsKey) {
  std::string text = DeploymentWith("3");
  text.replace(text.find("  replicas:"), 11, "  replica:");
  EXPECT_EQ(LoadError("d.yaml", text),
            "d.yaml:6:3: Deployment \"web\": unknown field \"replica\" in spec (DeploymentSpec): did you mean "
            "\"replicas\"?");
}

TEST(KubernetesValidationTest, NamesLabelsAndApiVersions) {
  EXPECT_EQ(LoadError("n.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Café_Upper\n"),
            "n.yaml:4:9: ConfigMap \"Café_Upper\": metadata.name \"Café_Upper\" is not a valid ConfigMap name: it must "
            "be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a "
            "letter or digit (e.g. 'example.com'); rename it, e.g. \"caf-upper\"");
  EXPECT_THAT(LoadError("l.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    tier: front end\n"),
              HasSubstr("l.yaml:6:11: ConfigMap \"a\": metadata.labels.tier has an invalid label value \"front end\""));
  std::string wrong = DeploymentWith("3");
  wrong.replace(0, 19, "apiVersion: v1");
  EXPECT_EQ(LoadError("w.yaml", wrong),
            "w.yaml:1:13: Deployment \"web\": apiVersion \"v1\" does not serve Deployment; Deployment is served as "
            "apiVersion: apps/v1");
  EXPECT_THAT(LoadError("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  port: 8080\n"),
              HasSubstr("c.yaml:6:9: ConfigMap \"a\": data.port must be a string, got integer 8080 (quote it: \"8080\")"));
  std::string big = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: " +
                    std::string(3 * 1024 * 1024, 'x') + "\n";
  EXPECT_THAT(LoadError("big.yaml", big), HasSubstr("big.yaml:6:3: ConfigMap \"big\": data holds 3145728 bytes"));
  EXPECT_THAT(LoadError("big.yaml", big), HasSubstr("the API server stores at most 1572864"));
}

constexpr const char* kWidgetCrd =
    "apiVersion: apiextensions.k8s.io/v1\n"
    "kind: CustomResourceDefinition\n"
    "metadata:\n"
    "  name: widgets.example.com\n"
    "spec:\n"
    "  group: example.com\n"
    "  scope: SCOPE\n"
    "  names: {plural: widgets, singular: widget, kind: Widget}\n"
    "  versions:\n"
    "    - name: v1\n"
    "      served: true\n"
    "      storage: true\n"
    "      schema:\n"
    "        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

std::string Crd(const std::string& scope) {
  std::string text = kWidgetCrd;
  text.replace(text.find("SCOPE"), 5, scope);
  return text;
}

TEST(KubernetesValidationTest, CustomResourcesTakeScopeAndVersionsFromTheirCrdInTheRepository) {
  const std::string widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
  Result<SpecSet> r = LoadSpecs({Inline("crd.yaml", Crd("Namespaced")), Inline("w.yaml", widget)}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->manifests.size(), 2u);
  const Manifest& w = r->manifests[1];
  EXPECT_EQ(w.key.ns, "default");
  EXPECT_EQ((*w.body)["metadata"]["namespace"], "default");
  EXPECT_TRUE(r->warnings.empty());

  r = LoadSpecs({Inline("crd.yaml", Crd("Cluster")), Inline("w.yaml", widget + "  namespace: team\n")}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "w.yaml:5:14: Widget \"w\": metadata.namespace must not be set: Widget is cluster-scoped (spec.scope of "
            "CustomResourceDefinition widgets.example.com at crd.yaml:1); remove the namespace");

  r = LoadSpecs({Inline("crd.yaml", Crd("Namespaced")),
                 Inline("w.yaml", "apiVersion: example.com/v2\nkind: Widget\nmetadata:\n  name: w\n")},
                nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "w.yaml:1:13: Widget \"w\": apiVersion \"example.com/v2\" is not served by CustomResourceDefinition "
            "widgets.example.com (crd.yaml:1), which serves example.com/v1");

  // Without a CRD in the repository: a warning, and plan asks the cluster.
  r = LoadSpecs({Inline("w.yaml", widget)}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_THAT(r->warnings[0].ToString(), HasSubstr("no CustomResourceDefinition in the repository declares Widget"));
}

TEST(KubernetesValidationTest, BuiltinKindUnderAnUnknownGroupNamesItsApiVersion) {
  EXPECT_EQ(LoadError("i.yaml", "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: i\n"),
            "i.yaml:1:13: Ingress \"i\": apiVersion \"extensions/v1beta1\" does not serve Ingress (no "
            "CustomResourceDefinition in the repository declares it); Ingress is served as apiVersion: "
            "networking.k8s.io/v1");
}

TEST(KubernetesValidationTest, ScopeOfBuiltinKindsComesFromTheOpenApiDocument) {
  Result<SpecSet> r = LoadSpecs(
      {Inline("k.yaml",
              "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec:\n  selector: {app: rc}\n"
              "  template:\n    metadata: {labels: {app: rc}}\n    spec: {containers: [{name: c, image: nginx}]}\n"
              "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: es}\naddressType: IPv4\n"
              "endpoints: []\n---\napiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l}\n")},
      nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const Manifest& m : r->manifests) EXPECT_EQ(m.key.ns, "default") << m.key.ToString();
  EXPECT_EQ(LoadError("c.yaml",
                      "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: c\n"
                      "  namespace: x\nspec:\n  request: aGVsbG8=\n  signerName: example.com/s\n"),
            "c.yaml:5:14: CertificateSigningRequest \"c\": metadata.namespace must not be set: "
            "CertificateSigningRequest is cluster-scoped; remove the namespace");
  EXPECT_THAT(LoadError("f.yaml",
                        "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata:\n  name: f\n"
                        "  namespace: x\nspec:\n  priorityLevelConfiguration: {name: global-default}\n"),
              HasSubstr("FlowSchema is cluster-scoped"));
}

}  // namespace
}  // namespace converge
