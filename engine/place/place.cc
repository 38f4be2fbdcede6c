#include "engine/place/place.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTopLevel(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(Trim(cur));
  return out;
}

bool ValidLabelKey(const std::string& k) {
  if (k.empty() || k.size() > 253) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(const std::string& text) {
  LabelSelector sel;
  if (Trim(text).empty()) return Status::Invalid("empty label selector");
  for (const std::string& part : SplitTopLevel(text)) {
    auto bad = [&](const std::string& why) {
      return Status::Invalid("bad label selector part \"" + part + "\": " + why);
    };
    if (part.empty()) return bad("empty requirement (stray comma?)");
    Requirement r;
    size_t pos;
    if (part[0] == '!') {
      r.op = Requirement::Op::kNotExists;
      r.key = Trim(part.substr(1));
    } else if ((pos = part.find("!=")) != std::string::npos) {
      r.op = Requirement::Op::kNotEq;
      r.key = Trim(part.substr(0, pos));
      r.values = {Trim(part.substr(pos + 2))};
    } else if ((pos = part.find("==")) != std::string::npos) {
      r.op = Requirement::Op::kEq;
      r.key = Trim(part.substr(0, pos));
      r.values = {Trim(part.substr(pos + 2))};
    } else if ((pos = part.find('=')) != std::string::npos) {
      r.op = Requirement::Op::kEq;
      r.key = Trim(part.substr(0, pos));
      r.values = {Trim(part.substr(pos + 1))};
    } else if (size_t open = part.find('('); open != std::string::npos) {
      size_t close = part.rfind(')');
      if (close == std::string::npos || close < open || Trim(part.substr(close + 1)) != "")
        return bad("expected \"key in (a,b)\"");
      std::string head = Trim(part.substr(0, open));
      size_t sp = head.find_last_of(" \t");
      if (sp == std::string::npos) return bad("expected \"key in (a,b)\" or \"key notin (a,b)\"");
      std::string op = head.substr(sp + 1);
      r.key = Trim(head.substr(0, sp));
      if (op == "in") {
        r.op = Requirement::Op::kIn;
      } else if (op == "notin") {
        r.op = Requirement::Op::kNotIn;
      } else {
        return bad("unknown operator \"" + op + "\" (use in or notin)");
      }
      std::string inner = part.substr(open + 1, close - open - 1);
      size_t start = 0;
      while (true) {
        size_t comma = inner.find(',', start);
        std::string v = Trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!v.empty()) r.values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (r.values.empty()) return bad("empty value list");
    } else {
      r.op = Requirement::Op::kExists;
      r.key = part;
    }
    if (!ValidLabelKey(r.key)) return bad("\"" + r.key + "\" is not a valid label key");
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto in_values = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
    switch (r.op) {
      case Requirement::Op::kEq:
      case Requirement::Op::kIn:
        if (!in_values()) return false;
        break;
      case Requirement::Op::kNotEq:
      case Requirement::Op::kNotIn:
        if (in_values()) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

PlacementAnnotations PlacementOf(const Json& body) {
  PlacementAnnotations out;
  const Json* annotations = nullptr;
  if (auto md = body.find("metadata"); md != body.end() && md->is_object()) {
    if (auto a = md->find("annotations"); a != md->end() && a->is_object()) annotations = &*a;
  }
  if (!annotations) return out;
  if (auto it = annotations->find(kClustersAnnotation); it != annotations->end()) {
    out.has_clusters = true;
    out.clusters_is_string = it->is_string();
    if (it->is_string()) out.clusters = it->get<std::string>();
  }
  if (auto it = annotations->find(kClusterSelectorAnnotation); it != annotations->end()) {
    out.has_selector = true;
    out.selector_is_string = it->is_string();
    if (it->is_string()) out.selector = it->get<std::string>();
  }
  return out;
}

Json Delivered(const Json& body) {
  Json out = body;
  auto md = out.find("metadata");
  if (md == out.end() || !md->is_object()) return out;
  auto ann = md->find("annotations");
  if (ann == md->end() || !ann->is_object()) return out;
  ann->erase(kClustersAnnotation);
  ann->erase(kClusterSelectorAnnotation);
  if (ann->empty()) md->erase("annotations");
  return out;
}

std::vector<std::string> PlacementTargets(const PlacementAnnotations& p, const std::vector<ClusterSpec>& clusters,
                                          const std::string& file, int line, const ObjectKey& key,
                                          std::vector<std::string>* errors, std::vector<Diagnostic>* warnings) {
  std::string what = file + ":" + std::to_string(line) + ": " + key.ToString();
  if (!p.has_clusters && !p.has_selector) {
    if (warnings) {
      warnings->push_back({file, line, 0,
                           key.ToString() + " is placed on no cluster: add the annotation " + kClustersAnnotation +
                               " or " + kClusterSelectorAnnotation});
    }
    return {};
  }
  std::set<std::string> targets;
  bool ok = true;
  if (p.has_clusters) {
    if (!p.clusters_is_string) {
      errors->push_back(what + ": annotation " + kClustersAnnotation + " must be a string like \"a,b\"");
      ok = false;
    } else {
      const std::string& list = p.clusters;
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string n = Trim(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!n.empty()) {
          bool declared = false;
          for (const ClusterSpec& c : clusters) declared = declared || c.name == n;
          if (!declared) {
            std::set<std::string> names;
            for (const ClusterSpec& c : clusters) names.insert(c.name);
            std::string known;
            for (const std::string& k : names) known += (known.empty() ? "" : ", ") + k;
            errors->push_back(what + ": annotation " + kClustersAnnotation + " names cluster \"" + n +
                              "\", which no source declares (known clusters: " + (known.empty() ? "none" : known) + ")");
            ok = false;
          } else {
            targets.insert(n);
          }
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
  if (p.has_selector) {
    Result<LabelSelector> sel = p.selector_is_string
                                    ? LabelSelector::Parse(p.selector)
                                    : Result<LabelSelector>(Status::Invalid("must be a string like \"tier=prod\""));
    if (!sel.ok()) {
      errors->push_back(what + ": annotation " + kClusterSelectorAnnotation + ": " + sel.status().message());
      ok = false;
    } else {
      size_t before = targets.size();
      for (const ClusterSpec& c : clusters)
        if (sel->Matches(c.labels)) targets.insert(c.name);
      if (warnings && targets.size() == before && targets.empty()) {
        warnings->push_back({file, line, 0, key.ToString() + ": selector \"" + p.selector + "\" matches no cluster"});
      }
    }
  }
  if (!ok) return {};
  return std::vector<std::string>(targets.begin(), targets.end());
}

Result<std::vector<PlacedObject>> PlaceManifests(const SpecSet& specs, std::vector<Diagnostic>* warnings) {
  std::vector<PlacedObject> out;
  std::vector<std::string> errors;
  for (const Manifest& m : specs.manifests) {
    std::vector<std::string> targets =
        PlacementTargets(PlacementOf(*m.body), specs.clusters, m.file, m.line, m.key, &errors, warnings);
    if (targets.empty()) continue;
    Manifest placed = m;
    placed.body = std::make_shared<Json>(Delivered(*m.body));
    for (const std::string& t : targets) out.push_back({t, placed});
  }
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return Status::Invalid(msg);
  }
  return out;
}

}  // namespace converge
