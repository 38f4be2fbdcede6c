// The fuzzed-input test of validate: seed files (tests/testdata/fuzz, examples/fleet/apps) are
// mutated deterministically (values swapped for hostile ones, lines deleted, duplicated, swapped or
// re-indented, bytes inserted, text truncated). Every input must either load or be refused with
// Invalid whose every line names file:line; whatever loads is then applied to a simulated cluster,
// which must take it or refuse it with a Status (never Invalid: it runs the same validator) and
// whose controllers must not crash or loop on it. Runs under ASan/UBSan in CI.
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/spec/spec.h"
#include "providers/connect.h"
#include "providers/provider.h"
#include "providers/sim/sim_provider.h"
#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

constexpr int kInputs = 2000;
// Every kSimEvery-th input that loads is also applied to the sim (what costs most of the time).
constexpr int kSimEvery = 2;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  const std::filesystem::path root(CONVERGE_SOURCE_DIR);
  for (const auto& dir : {root / "tests/testdata/fuzz", root / "examples/fleet/apps"}) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) seeds.push_back(ReadFile(f));
  }
  return seeds;
}

// Values real users and attackers write where a field's value goes.
const char* const kHostile[] = {
    "-3", "\"3\"", "1e20", "2000000000", "2147483648", "3.5", "null", "~", "true", "\"\"", "Café_Upper", "''",
    "[]", "{}", "[1, 2]", "{a: b}", "-", "0x1F", ".inf", "-.nan", "0", "65536", "\"front end\"", "!!binary aGk=",
    "&a x", "*a", "\"a/b/c\"", "9223372036854775808", "-9223372036854775809", "\"\\u0000\"", "|\n  block", ">-",
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string Mutate(std::string text, std::mt19937_64& rng) {
  int rounds = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::string> lines = Lines(text);
    if (lines.empty()) return text;
    size_t i = rng() % lines.size();
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {  // a hostile value after "key: " (or as a list item)
        size_t colon = lines[i].find(": ");
        std::string value = kHostile[rng() % std::size(kHostile)];
        if (colon != std::string::npos) {
          lines[i] = lines[i].substr(0, colon + 2) + value;
        } else if (size_t dash = lines[i].find("- "); dash != std::string::npos) {
          lines[i] = lines[i].substr(0, dash + 2) + value;
        }
        break;
      }
      case 3: lines.erase(lines.begin() + static_cast<long>(i)); break;
      case 4: lines.insert(lines.begin() + static_cast<long>(i), lines[i]); break;
      case 5: std::swap(lines[i], lines[rng() % lines.size()]); break;
      case 6: lines[i] = (rng() % 2 ? "  " + lines[i] : lines[i].substr(std::min<size_t>(2, lines[i].size()))); break;
      case 7: {  // a byte somewhere
        static const char kBytes[] = {'\t', ':', '-', '{', '[', '"', '\'', '#', '&', '*', '!', '%', '\xff', '\xc3', 'A'};
        std::string& l = lines[i];
        l.insert(l.begin() + static_cast<long>(l.empty() ? 0 : rng() % l.size()), kBytes[rng() % sizeof kBytes]);
        break;
      }
    }
    text = Join(lines);
  }
  if (rng() % 20 == 0) text.resize(rng() % (text.size() + 1));
  return text;
}

// Whether applying `obj` would materialize many pods (the bounded-pods test covers that; here it
// would only cost time).
bool ManyReplicas(const Json& obj) {
  const Json* spec = obj.contains("spec") ? &obj["spec"] : nullptr;
  return spec && spec->is_object() && spec->contains("replicas") && (*spec)["replicas"].is_number() &&
         (*spec)["replicas"].get<double>() > 20;
}

TEST(ValidateFuzzTest, EveryInputLoadsOrIsRefusedWithFileLineErrorsAndTheSimNeverCrashes) {
  std::vector<std::string> seeds = Seeds();
  ASSERT_GE(seeds.size(), 5u);

  testing::SimulatedEnv env;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("validate_fuzz_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  ProviderContext ctx{&env, dir.string()};
  CloudSpec cloud;
  cloud.name = "fuzz";
  cloud.provider = "sim";
  cloud.region = "r1";
  cloud.regions = {"r1"};
  cloud.config = std::make_shared<const Json>(Json::parse(
      R"({"provider":"sim","region":"r1","simulation":{"clusterCreateSeconds":1,"podStartSeconds":1}})"));
  auto provider = NewSimCloudFactory()->Create(cloud, ctx);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  ASSERT_TRUE((*provider)->EnsureCloud({}).ok());
  ClusterSpec cluster;
  cluster.name = "f";
  cluster.cloud = "fuzz";
  cluster.version = "1.30";
  cluster.region = "r1";
  cluster.node_pools = {NodePoolSpec{"p", "c7.large.2", "x86_64", 2, 0, 0}};
  ASSERT_TRUE((*provider)->StartApplyCluster(cluster, {}).ok());
  env.Advance(5'000);
  auto conn = ConnectToCluster(**provider, ProviderRegistry::Global(), ctx, "f", {});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();

  const std::regex line_re(R"(^fuzz\.yaml(:\d+(:\d+)?)?: \S.*$)");
  std::mt19937_64 rng(20240601);
  int loaded = 0, refused = 0, applied = 0, refused_by_sim = 0;
  for (int n = 0; n < kInputs; ++n) {
    const std::string text = Mutate(seeds[rng() % seeds.size()], rng);
    Result<SpecSet> set = LoadSpecs({SpecFile{"fuzz.yaml", "", [&text]() -> Result<std::string> { return text; }}},
                                    nullptr);
    if (!set.ok()) {
      ++refused;
      ASSERT_EQ(set.status().code(), Code::kInvalid) << set.status().ToString() << "\ninput:\n" << text;
      std::stringstream lines(set.status().message());
      std::string line;
      while (std::getline(lines, line)) {
        ASSERT_TRUE(std::regex_match(line, line_re)) << "not a file:line error: " << line << "\ninput:\n" << text;
      }
      continue;
    }
    ++loaded;
    if (loaded % kSimEvery != 0) continue;
    // Namespaces and CRDs first, as plan orders them.
    std::vector<const Manifest*> order;
    for (int pass = 0; pass < 2; ++pass) {
      for (const Manifest& m : set->manifests) {
        bool first = m.key.kind == "Namespace" || m.key.kind == "CustomResourceDefinition";
        if (first == (pass == 0)) order.push_back(&m);
      }
    }
    for (const Manifest* m : order) {
      if (ManyReplicas(*m->body)) continue;
      Result<Json> r = (*conn)->Apply(*m->body, {});
      if (r.ok()) {
        ++applied;
        continue;
      }
      ++refused_by_sim;
      ASSERT_NE(r.status().code(), Code::kInvalid)
          << "validate accepted what the sim refuses: " << r.status().ToString() << "\ninput:\n" << text;
      ASSERT_FALSE(r.status().message().empty());
    }
    if (n % 50 == 0) {
      env.Advance(3'000);  // controllers catch up on everything applied so far
      for (const Manifest& m : set->manifests) (void)(*conn)->Get(m.key, {});
    }
  }
  std::cerr << "inputs " << kInputs << ": loaded " << loaded << ", refused " << refused << "; sim applied " << applied
            << ", refused " << refused_by_sim << "\n";
  EXPECT_GT(loaded, kInputs / 20);
  EXPECT_GT(refused, kInputs / 4);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace converge
