// ProviderRegistry: names are unique, entries can be swapped and restored, unknown names are
// answered with the known ones, and the sim registers itself from its own files.
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "providers/provider.h"
#include "providers/sim/sim_provider.h"
#include "tests/testing/fake_provider.h"

namespace converge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProviderRegistryTest, SimRegistersItselfForBothKinds) {
  ProviderRegistry& global = ProviderRegistry::Global();
  ASSERT_NE(global.Cloud("sim"), nullptr);
  ASSERT_NE(global.Connector("sim"), nullptr);
  EXPECT_EQ(global.Cloud("sim")->name(), "sim");
  EXPECT_EQ(global.Connector("sim")->name(), "sim");
  EXPECT_THAT(global.CloudNames(), ::testing::Contains("sim"));
  EXPECT_THAT(global.ConnectorNames(), ::testing::Contains("sim"));
}

TEST(ProviderRegistryTest, NoRegistrationErrors) { EXPECT_TRUE(ProviderRegistry::Global().RegistrationErrors().empty()); }

TEST(ProviderRegistryTest, DuplicateNamesAreRefused) {
  ProviderRegistry registry;
  testing::FakeProvider fake("fake");
  ASSERT_TRUE(registry.RegisterCloud(fake.NewCloudFactory()).ok());
  ASSERT_TRUE(registry.RegisterConnector(fake.NewConnectorFactory()).ok());
  Status cloud = registry.RegisterCloud(fake.NewCloudFactory());
  EXPECT_EQ(cloud.code(), Code::kAlreadyExists);
  EXPECT_THAT(cloud.message(), HasSubstr("\"fake\" is already registered"));
  EXPECT_EQ(registry.RegisterConnector(fake.NewConnectorFactory()).code(), Code::kAlreadyExists);
  EXPECT_EQ(registry.RegisterCloud(nullptr).code(), Code::kInvalid);
  EXPECT_THAT(registry.CloudNames(), ElementsAre("fake"));
}

TEST(ProviderRegistryTest, DuplicateRegistrationAtStartupIsRecorded) {
  // In a child: the global registry keeps what it is given for the life of the process.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool registered = provider_internal::RegisterCloudAtStartup(NewSimCloudFactory());
    std::vector<Status> errors = ProviderRegistry::Global().RegistrationErrors();
    bool ok = !registered && errors.size() == 1 && errors[0].code() == Code::kAlreadyExists &&
              errors[0].message().find("\"sim\"") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(ProviderRegistry::Global().RegistrationErrors().empty());
}

TEST(ProviderRegistryTest, ReplaceSwapsAndReturnsThePreviousEntry) {
  ProviderRegistry registry;
  testing::FakeProvider first("x"), second("x");
  ASSERT_TRUE(registry.RegisterCloud(first.NewCloudFactory()).ok());
  const CloudProviderFactory* original = registry.Cloud("x");
  std::unique_ptr<CloudProviderFactory> previous = registry.ReplaceCloud("x", second.NewCloudFactory());
  EXPECT_EQ(previous.get(), original);
  EXPECT_NE(registry.Cloud("x"), original);
  std::unique_ptr<CloudProviderFactory> removed = registry.ReplaceCloud("x", nullptr);
  EXPECT_NE(removed, nullptr);
  EXPECT_EQ(registry.Cloud("x"), nullptr);
  EXPECT_TRUE(registry.CloudNames().empty());
  EXPECT_EQ(registry.ReplaceConnector("none", nullptr), nullptr);
}

TEST(ProviderRegistryTest, ScopedRegistrationRestoresTheSim) {
  ProviderRegistry& global = ProviderRegistry::Global();
  const CloudProviderFactory* sim_cloud = global.Cloud("sim");
  const ConnectorFactory* sim_connector = global.Connector("sim");
  {
    testing::FakeProvider fake("sim");
    testing::ScopedRegistration installed = fake.Install(global);
    EXPECT_NE(global.Cloud("sim"), sim_cloud);
    EXPECT_NE(global.Connector("sim"), sim_connector);
    CloudSpec cloud;
    cloud.name = "c";
    cloud.provider = "sim";
    ASSERT_TRUE(global.CreateCloud(cloud, {}).ok());
    EXPECT_EQ(fake.CallCount("Create"), 1);  // the fake answered
  }
  EXPECT_EQ(global.Cloud("sim"), sim_cloud);
  EXPECT_EQ(global.Connector("sim"), sim_connector);
  {  // a name that was free is free again afterwards
    testing::FakeProvider fake("brand-new");
    testing::ScopedRegistration installed = fake.Install(global);
    EXPECT_NE(global.Cloud("brand-new"), nullptr);
  }
  EXPECT_EQ(global.Cloud("brand-new"), nullptr);
  EXPECT_EQ(global.Connector("brand-new"), nullptr);
}

TEST(ProviderRegistryTest, UnknownNamesAreAnsweredWithTheKnownOnes) {
  ProviderRegistry registry;
  testing::FakeProvider a("alpha"), b("beta");
  ASSERT_TRUE(registry.RegisterCloud(b.NewCloudFactory()).ok());
  ASSERT_TRUE(registry.RegisterCloud(a.NewCloudFactory()).ok());
  ASSERT_TRUE(registry.RegisterConnector(a.NewConnectorFactory()).ok());
  CloudSpec cloud;
  cloud.name = "hwc";
  cloud.provider = "cce";
  auto p = registry.CreateCloud(cloud, {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kNotFound);
  EXPECT_EQ(p.status().message(), "Cloud \"hwc\": unknown provider \"cce\" (known: alpha, beta)");
  auto c = registry.Connect(ClusterEndpoint{"kubernetes", "prod", "https://10.0.0.1:6443", {}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_EQ(c.status().message(),
            "cluster \"prod\" (https://10.0.0.1:6443): unknown connector \"kubernetes\" (known: alpha)");
  ProviderRegistry empty;
  EXPECT_THAT(empty.CreateCloud(cloud, {}).status().message(), HasSubstr("(known: none registered)"));
}

TEST(ProviderRegistryTest, DefaultWatchIsUnsupported) {
  testing::FakeProvider fake;
  fake.AddCluster("a");
  ProviderRegistry registry;
  testing::ScopedRegistration installed = fake.Install(registry);
  auto conn = registry.Connect(ClusterEndpoint{"fake", "a", "fake://a", {}}, {});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto watch = (*conn)->Watch("apps", "Deployment", "", "1", {});
  EXPECT_EQ(watch.status().code(), Code::kUnsupported);
}

}  // namespace
}  // namespace converge
