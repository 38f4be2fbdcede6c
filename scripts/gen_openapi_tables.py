#!/usr/bin/env python3
"""Turns the vendored Kubernetes OpenAPI document into compact C++ tables, at build time.

Usage: gen_openapi_tables.py SWAGGER_JSON KINDS_OUT SCHEMA_OUT

  KINDS_OUT   rows of BuiltinKind for engine/model/kinds.cc: every kind the API server serves at a
              GA or beta version (alpha APIs are off by default on real clusters), with its plural,
              its preferred version and its scope. Scope comes from the paths: a kind served under
              .../namespaces/{namespace}/<plural> is namespaced, one served only at .../<plural> is
              cluster-scoped.
  SCHEMA_OUT  the schema tables of engine/k8s/openapi.cc: every definition's fields with their
              types, required fields, and every served (group, version, kind) with its definition.

Descriptions are dropped; what is kept is what validation needs, so the binary never parses the
3 MB document. The output is deterministic (sorted), so an unchanged input rebuilds nothing.
"""
import json
import re
import sys

# Node types; the numbering is engine/k8s/openapi.h's SchemaType.
ANY, OBJECT, STRING, BYTES, DATE_TIME, INT32, INT64, NUMBER, BOOLEAN, ARRAY, MAP, INT_OR_STRING, QUANTITY = range(13)
TYPE_NAMES = ["kAny", "kObject", "kString", "kBytes", "kDateTime", "kInt32", "kInt64", "kNumber", "kBoolean",
              "kArray", "kMap", "kIntOrString", "kQuantity"]

SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": QUANTITY,
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": INT_OR_STRING,
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": DATE_TIME,
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": DATE_TIME,
}


def version_priority(v):
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, v)


def is_alpha(v):
    return "alpha" in v


def c_str(s):
    return json.dumps(s)  # JSON string escapes are valid C++ for these ASCII names


class Tables:
    def __init__(self, definitions):
        self.defs = definitions
        self.def_names = sorted(definitions)
        self.def_index = {n: i for i, n in enumerate(self.def_names)}
        self.nodes = []
        self.node_index = {}

    def node(self, typ, ref=-1, elem=-1):
        key = (typ, ref, elem)
        if key not in self.node_index:
            self.node_index[key] = len(self.nodes)
            self.nodes.append(key)
        return self.node_index[key]

    def of_ref(self, ref):
        name = ref.rsplit("/", 1)[-1]
        if name in SPECIAL:
            return self.node(SPECIAL[name])
        d = self.defs[name]
        if "properties" in d:
            return self.node(OBJECT, self.def_index[name])
        return self.of_schema(d, allow_ref=False)

    def of_schema(self, s, allow_ref=True):
        if allow_ref and "$ref" in s:
            return self.of_ref(s["$ref"])
        if s.get("x-kubernetes-int-or-string"):
            return self.node(INT_OR_STRING)
        if s.get("x-kubernetes-preserve-unknown-fields"):
            return self.node(ANY)
        t = s.get("type")
        f = s.get("format")
        if t == "string":
            if f == "byte":
                return self.node(BYTES)
            if f == "date-time":
                return self.node(DATE_TIME)
            if f == "int-or-string":
                return self.node(INT_OR_STRING)
            return self.node(STRING)
        if t == "integer":
            return self.node(INT32 if f == "int32" else INT64)
        if t == "number":
            return self.node(NUMBER)
        if t == "boolean":
            return self.node(BOOLEAN)
        if t == "array":
            return self.node(ARRAY, -1, self.of_schema(s.get("items", {})))
        if t == "object":
            if "additionalProperties" in s:
                return self.node(MAP, -1, self.of_schema(s["additionalProperties"]))
            if "properties" in s:
                raise SystemExit("inline object schemas with properties are not expected")
            return self.node(MAP, -1, self.node(ANY))
        return self.node(ANY)


def served_kinds(doc):
    """(group, version, kind) -> {plural, namespaced, verbs} from the paths."""
    out = {}
    for path, item in doc["paths"].items():
        seg = path.strip("/").split("/")
        if seg[0] == "api" and len(seg) >= 2:
            group, version, rest = "", seg[1], seg[2:]
        elif seg[0] == "apis" and len(seg) >= 3:
            group, version, rest = seg[1], seg[2], seg[3:]
        else:
            continue
        if not rest or rest[0] == "watch":
            continue
        namespaced = False
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[1] == "{namespace}":
            namespaced, rest = True, rest[2:]
        if len(rest) not in (1, 2) or (len(rest) == 2 and rest[1] != "{name}"):
            continue  # a subresource
        for method, op in item.items():
            if not isinstance(op, dict) or "x-kubernetes-group-version-kind" not in op:
                continue
            gvk = op["x-kubernetes-group-version-kind"]
            if gvk["group"] != group or gvk["version"] != version:
                continue
            key = (group, version, gvk["kind"])
            e = out.setdefault(key, {"plural": rest[0], "namespaced": False, "verbs": set()})
            if namespaced:
                e["namespaced"] = True
            e["verbs"].add(op.get("x-kubernetes-action", method) + ("@name" if len(rest) == 2 else ""))
    return out


def main():
    swagger, kinds_out, schema_out = sys.argv[1:4]
    with open(swagger, encoding="utf-8") as f:
        doc = json.load(f)
    defs = doc["definitions"]
    tables = Tables(defs)

    # Definitions: fields sorted by name.
    fields = []
    def_rows = []
    for name in tables.def_names:
        d = defs[name]
        first = len(fields)
        required = set(d.get("required", []))
        for prop in sorted(d.get("properties", {})):
            fields.append((prop, tables.of_schema(d["properties"][prop]), prop in required))
        short = name.rsplit(".", 1)[-1]
        def_rows.append((short, first, len(fields) - first))

    # Kinds: the definition of each served (group, version, kind).
    gvk_def = {}
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            gvk_def[(gvk["group"], gvk["version"], gvk["kind"])] = name
    served = served_kinds(doc)
    kind_rows = []
    for (group, version, kind), e in sorted(served.items()):
        if (group, version, kind) not in gvk_def:
            continue
        appliable = "patch@name" in e["verbs"]
        kind_rows.append((group, version, kind, e["plural"], e["namespaced"], appliable, is_alpha(version),
                          tables.def_index[gvk_def[(group, version, kind)]]))

    # Preferred versions of the kinds the API server serves by default (GA and beta).
    by_kind = {}
    for r in kind_rows:
        if not r[6] and r[5]:
            by_kind.setdefault((r[0], r[2]), []).append(r)
    builtin = []
    for (group, kind), rows in sorted(by_kind.items()):
        rows.sort(key=lambda r: version_priority(r[1]))
        best = rows[0]
        builtin.append((group, best[1], kind, best[3], best[4]))

    info = doc.get("info", {})
    header = ("// Generated by scripts/gen_openapi_tables.py from data/openapi/swagger.json "
              "(see data/openapi/README.md). Do not edit.\n")
    with open(kinds_out, "w", encoding="utf-8") as f:
        f.write(header)
        f.write("// {group, preferred version, kind, plural, namespaced} of every appliable GA or beta kind.\n")
        for g, v, k, p, ns in builtin:
            f.write("{%s, %s, %s, %s, %s},\n" % (c_str(g), c_str(v), c_str(k), c_str(p), "true" if ns else "false"))

    with open(schema_out, "w", encoding="utf-8") as f:
        f.write(header)
        f.write("// OpenAPI %s; %d definitions, %d fields, %d nodes, %d kinds.\n" %
                (c_str(info.get("version", "")), len(def_rows), len(fields), len(tables.nodes), len(kind_rows)))
        f.write("const SchemaNode kNodes[] = {\n")
        for typ, ref, elem in tables.nodes:
            f.write("{SchemaType::%s, %d, %d},\n" % (TYPE_NAMES[typ], ref, elem))
        f.write("};\nconst SchemaField kFields[] = {\n")
        for prop, node, req in fields:
            f.write("{%s, %d, %s},\n" % (c_str(prop), node, "true" if req else "false"))
        f.write("};\nconst SchemaDefinition kDefinitions[] = {\n")
        for short, first, count in def_rows:
            f.write("{%s, %d, %d},\n" % (c_str(short), first, count))
        f.write("};\nconst char* const kDefinitionNames[] = {\n")
        for name in tables.def_names:
            f.write("%s,\n" % c_str(name))
        f.write("};\nconst SchemaKind kKinds[] = {\n")
        for g, v, k, p, ns, ap, alpha, di in kind_rows:
            f.write("{%s, %s, %s, %s, %s, %s, %s, %d},\n" %
                    (c_str(g), c_str(v), c_str(k), c_str(p), "true" if ns else "false", "true" if ap else "false",
                     "true" if alpha else "false", di))
        f.write("};\n")


if __name__ == "__main__":
    main()
