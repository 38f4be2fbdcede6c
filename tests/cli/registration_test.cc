// The providers' static registration survives the link the way the converge binary is linked:
// nothing in this test binary names the sim's factories, so only converge_providers being linked
// whole (CMake: WHOLE_ARCHIVE) keeps their registrars.
#include <gtest/gtest.h>

#include "providers/provider.h"

namespace converge {
namespace {

TEST(ProviderLinkTest, GlobalRegistryKnowsTheSimWithoutAReferenceToIt) {
  ProviderRegistry& global = ProviderRegistry::Global();
  EXPECT_NE(global.Cloud("sim"), nullptr);
  EXPECT_NE(global.Connector("sim"), nullptr);
  EXPECT_TRUE(global.RegistrationErrors().empty());
}

}  // namespace
}  // namespace converge
