#include "engine/source/kustomize.h"

#include <gtest/gtest.h>

namespace converge {
namespace {

using Refs = std::vector<std::string>;

TEST(KustomizeTest, ReferencesAreResolvedAgainstTheDirectory) {
  EXPECT_EQ(KustomizationReferences("apps/overlays/prod", "namespace: shop\nresources:\n  - ns.yaml\n  - ../../base\n"
                                                          "components:\n- ../../components/tls  # comment\n"),
            (Refs{"apps/overlays/prod/ns.yaml", "apps/base", "apps/components/tls"}));
  EXPECT_EQ(KustomizationReferences("", "bases: [\"./a\", b/]\n"), (Refs{"a", "b"}));
  EXPECT_EQ(KustomizationReferences("x", "resources:\n- https://github.com/org/repo//base?ref=v1\n"
                                         "- github.com/org/repo/base\n- ../../../../outside\n"),
            Refs{}) << "remote references and paths leaving the repository are not local directories";
  EXPECT_EQ(KustomizationReferences("x", "patches:\n  - path: ../p.yaml\nresources:\n  - a.yaml\n"), Refs{"x/a.yaml"});
}

TEST(KustomizeTest, DotDotOutsideTheReferencesIsSeen) {
  EXPECT_FALSE(ReachesOutsideItsReferences("resources:\n- ../base\n"));
  EXPECT_TRUE(ReachesOutsideItsReferences("resources:\n- ../base\npatches:\n- path: ../patch.yaml\n"));
  EXPECT_FALSE(ReachesOutsideItsReferences("resources:\n- a.yaml\n"));
}

TEST(KustomizeTest, MessagesAreKustomizesOwnWords) {
  EXPECT_EQ(KustomizeMessage("E1202 00:12:58.892416 24487 run.go:72] \"command failed\" err=\"accumulating resources: "
                             "missing.yaml: no such file\"\n"),
            "accumulating resources: missing.yaml: no such file");
  EXPECT_EQ(KustomizeMessage("Error: bad thing\n\nmore\n"), "Error: bad thing; more");
  EXPECT_TRUE(IsKustomizationFile("Kustomization"));
  EXPECT_FALSE(IsKustomizationFile("kustomization.json"));
}

}  // namespace
}  // namespace converge
