#include "engine/dag/graph.h"

#include <algorithm>

namespace converge::dag {

StepId Graph::Add(StepSpec spec) {
  steps_.push_back(Node{std::move(spec), {}, {}});
  return static_cast<StepId>(steps_.size() - 1);
}

void Graph::AddEdge(StepId step, StepId other, EdgeKind kind) {
  if (step == other) {  // a self edge is the shortest cycle; keep it so CheckAcyclic reports it
    steps_[static_cast<size_t>(step)].prerequisites.push_back(Edge{other, kind});
    return;
  }
  auto& prereqs = steps_[static_cast<size_t>(step)].prerequisites;
  for (Edge& e : prereqs) {
    if (e.other == other) {  // one edge per pair; Needs is the stronger of the two
      if (kind == EdgeKind::kNeeds) {
        e.kind = kind;
        for (Edge& d : steps_[static_cast<size_t>(other)].dependents)
          if (d.other == step) d.kind = kind;
      }
      return;
    }
  }
  prereqs.push_back(Edge{other, kind});
  steps_[static_cast<size_t>(other)].dependents.push_back(Edge{step, kind});
}

Status Graph::CheckAcyclic() const {
  // Iterative depth-first search over prerequisites; a grey node met again closes a cycle.
  enum Color : char { kWhite, kGrey, kBlack };
  std::vector<Color> color(steps_.size(), kWhite);
  std::vector<StepId> path;
  std::vector<size_t> next_edge;
  for (StepId root = 0; root < static_cast<StepId>(steps_.size()); ++root) {
    if (color[static_cast<size_t>(root)] != kWhite) continue;
    path = {root};
    next_edge = {0};
    color[static_cast<size_t>(root)] = kGrey;
    while (!path.empty()) {
      StepId at = path.back();
      const auto& edges = prerequisites(at);
      if (next_edge.back() == edges.size()) {
        color[static_cast<size_t>(at)] = kBlack;
        path.pop_back();
        next_edge.pop_back();
        continue;
      }
      StepId to = edges[next_edge.back()++].other;
      if (color[static_cast<size_t>(to)] == kGrey) {
        // The cycle is `to` ... at -> to along the path; name it in run order (prerequisite first).
        auto start = std::find(path.begin(), path.end(), to);
        std::vector<StepId> cycle(start, path.end());
        std::reverse(cycle.begin(), cycle.end());
        std::string text;
        for (StepId s : cycle) text += name(s) + " -> ";
        text += name(cycle.front());
        return Status::Invalid("dependency cycle: " + text);
      }
      if (color[static_cast<size_t>(to)] == kWhite) {
        color[static_cast<size_t>(to)] = kGrey;
        path.push_back(to);
        next_edge.push_back(0);
      }
    }
  }
  return Status::Ok();
}

}  // namespace converge::dag
