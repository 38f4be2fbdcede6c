// Kustomize directories, as Argo CD and Flux find them: a directory holding kustomization.yaml,
// kustomization.yml or Kustomization is rendered, not read file by file. These helpers decide
// which directories are rendered (a kustomization another one uses as a resource, base or
// component is rendered only as part of it) and how kustomize's errors read. Pure.
#pragma once

#include <string>
#include <vector>

namespace converge {

// The file names that make a directory a kustomization, in kustomize's order of preference.
bool IsKustomizationFile(const std::string& name);

// The local paths a kustomization's resources, bases and components name (URLs and remote
// references are left out), resolved against `dir` (its directory in the repository, "" for the
// root) and normalized; paths that leave the repository are left out.
std::vector<std::string> KustomizationReferences(const std::string& dir, const std::string& text);

// Whether the kustomization mentions `..` anywhere other than in those references (a patch or
// generator file outside its directory, say): its output then depends on more than the trees of
// its directory and of what it references.
bool ReachesOutsideItsReferences(const std::string& text);

// kustomize's or kubectl's stderr reduced to what went wrong: the err="..." part of a kubectl
// log line when there is one, else the first lines, trimmed.
std::string KustomizeMessage(const std::string& stderr_text);

}  // namespace converge
