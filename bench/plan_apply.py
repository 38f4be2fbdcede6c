#!/usr/bin/env python3
"""converge plan/apply benchmark: how the cost of each step grows with the size of the fleet.

For each size (default 10,000, 50,000 and 100,000 objects across 20 simulated clusters) it
generates a Git repository (packed with `git gc`, as a real remote is), then measures, each as a
separate converge process on a fresh state dir:
  cold plan        first plan: fetch, parse every file, observe empty clusters, diff, order
  apply            create the clusters and every object (sim timings 0: measures converge, not waits)
  no-op plan       the commit did not change and nothing live moved (after one settling plan that
                   records what it observed)
  one-change plan  a commit that changes one Deployment
and the peak resident memory of each. Real peers run in the same session on the same repository:
`git ls-remote` (what any GitOps tool must do to learn that nothing changed) for the no-op plan,
and `git clone --mirror` (what it must do at least once) for the other steps; every figure is
also printed as a ratio to its peer, and the last column is the growth from the smallest size to
the largest (1.0 = flat).

Usage: bench/plan_apply.py [--converge build/release/converge] [--sizes 10000,50000,100000]
                           [--clusters 20] [--keep]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def measured(cmd, ok=(0, 2)):
    """Runs cmd inside a fresh python child so its peak RSS is isolated. Returns (s, MiB, rc, out)."""
    helper = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.PIPE,text=True);"
        "e=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'s':e,'kb':r,'rc':p.returncode,'out':p.stdout[-3000:],'err':p.stderr[-3000:]}))"
    )
    proc = subprocess.run([sys.executable, "-c", helper] + cmd, stdout=subprocess.PIPE, text=True, check=True)
    r = json.loads(proc.stdout)
    if r["rc"] not in ok:
        sys.stderr.write(f"command failed ({r['rc']}): {' '.join(cmd)}\n{r['err']}\n")
        sys.exit(1)
    return r["s"], r["kb"] / 1024.0, r["rc"], r["out"] + r["err"]


def best_of(n, cmd, ok=(0, 2)):
    """The fastest of n runs (the peers are quick, so one run is noise)."""
    runs = [measured(cmd, ok) for _ in range(n)]
    return min(runs, key=lambda r: r[0])


def generate(repo, objects, clusters):
    os.makedirs(repo)

    def w(p, s):
        with open(os.path.join(repo, p), "w") as f:
            f.write(s)

    os.makedirs(os.path.join(repo, "fleet"))
    w("fleet/cloud.yaml", """apiVersion: converge.dev/v1alpha1
kind: Cloud
metadata:
  name: bench
spec:
  provider: sim
  region: r1
  simulation:
    clusterCreateSeconds: 0
    podStartSeconds: 0
    upgradeStepSeconds: 0
    scaleSeconds: 0
""")
    per = objects // clusters
    deployments = per // 5
    for c in range(clusters):
        name = f"c{c:02d}"
        w(f"fleet/{name}.yaml", f"""apiVersion: converge.dev/v1alpha1
kind: Cluster
metadata:
  name: {name}
  labels: {{tier: bench, index: "{c}"}}
spec:
  cloud: bench
  version: "1.29"
  nodePools:
    - name: general
      flavor: c7.8xlarge.2
      count: {max(4, per // 500)}
""")
        d = os.path.join(repo, "apps", name)
        os.makedirs(d)
        ann = f"    converge.dev/clusters: {name}\n"
        docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app-{name}\n  annotations:\n{ann}"]
        n = 1
        i = 0
        while n < per:
            if i < deployments and n + 2 <= per:
                docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: app-{name}
  labels: {{app: svc-{i}}}
  annotations:
{ann}spec:
  replicas: 1
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}}}
    spec:
      containers:
        - name: main
          image: registry.example.com/svc:{i}
          resources:
            requests: {{cpu: 10m, memory: 16Mi}}
""")
                docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: app-{name}
  annotations:
{ann}spec:
  selector: {{app: svc-{i}}}
  ports:
    - port: 80
""")
                n += 2
            else:
                docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-{i}
  namespace: app-{name}
  annotations:
{ann}data:
  key: value-{i}
  other: "{i * 7}"
""")
                n += 1
            i += 1
        # Ten objects per file, like a real repository's mix of small files.
        for f in range(0, len(docs), 10):
            w(f"apps/{name}/part-{f // 10:04d}.yaml", "---\n".join(docs[f:f + 10]))
    # gc.auto=0: a commit of many loose objects would start a background gc that races ours.
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@converge.dev", "-c", "gc.auto=0"]
    subprocess.run(["git", "-C", repo, "init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "bench fleet"], check=True)
    # A remote serves packs: measure the git peer (and converge's fetch) against one.
    subprocess.run(git + ["gc", "-q"], check=True)
    return git


def run_size(conv, tmp, objects, clusters):
    root = os.path.join(tmp, str(objects))
    repo = os.path.join(root, "repo")
    t0 = time.perf_counter()
    git = generate(repo, objects, clusters)
    gen = time.perf_counter() - t0
    state = os.path.join(root, "state")
    url = "file://" + repo
    base = [conv, "--state-dir", state]
    res = {"generated_s": gen}

    res["git ls-remote"] = best_of(5, ["git", "ls-remote", url, "refs/heads/main"])[:2]
    mirror = os.path.join(root, "mirror.git")

    def clone():
        shutil.rmtree(mirror, ignore_errors=True)
        return measured(["git", "clone", "-q", "--mirror", url, mirror])

    res["git clone --mirror"] = min((clone() for _ in range(3)), key=lambda r: r[0])[:2]

    s, mb, rc, out = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
    assert rc == 2, "cold plan should have changes:\n" + out
    res["cold plan"] = (s, mb)
    s, mb, rc, out = measured(base + ["apply", "--repo", url, "--parallelism", "4"], ok=(0,))
    res["apply"] = (s, mb)
    # The first plan after an apply checks every object once (the clusters changed) and records
    # what it saw; the no-op figures are the plans after it.
    s, mb, rc, out = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
    res["first plan after apply"] = (s, mb)
    assert rc == 0, "the plan after apply should be empty:\n" + out
    res["no-op plan"] = best_of(3, base + ["plan", "--repo", url, "--detailed-exitcode"], ok=(0,))[:2]

    p = os.path.join(repo, "apps", "c00", "part-0000.yaml")
    with open(p) as f:
        text = f.read()
    with open(p, "w") as f:
        f.write(text.replace("replicas: 1", "replicas: 2", 1))
    subprocess.run(git + ["commit", "-q", "-am", "scale one"], check=True)
    s, mb, rc, out = measured(base + ["plan", "--repo", url, "--detailed-exitcode", "-o", "json"])
    assert rc == 2, "one-change plan should have changes:\n" + out
    res["one-change plan"] = (s, mb)
    try:
        doc = json.loads(out[: out.rfind("}") + 1])
        res["one-change actions"] = len(doc.get("actions", []))
    except ValueError:
        res["one-change actions"] = -1
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--converge", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "converge"))
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    conv = os.path.abspath(a.converge)
    if not os.path.exists(conv):
        sys.exit(f"no converge binary at {conv}: run scripts/build.sh release first")
    sizes = [int(x) for x in a.sizes.split(",")]

    tmp = tempfile.mkdtemp(prefix="converge-bench-")
    try:
        results = {n: run_size(conv, tmp, n, a.clusters) for n in sizes}
        with open("/proc/cpuinfo") as f:
            cpu = f.read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip()
        print(f"machine: {os.cpu_count()} cores, {cpu}")
        print(f"fleet: {a.clusters} simulated clusters; Namespace, Deployments with Services, ConfigMaps; "
              f"ten objects per file; repository packed with git gc")
        steps = [("git ls-remote", None), ("git clone --mirror", None), ("cold plan", "git clone --mirror"),
                 ("apply", "git clone --mirror"), ("first plan after apply", "git clone --mirror"),
                 ("no-op plan", "git ls-remote"), ("one-change plan", "git clone --mirror")]
        head = f"{'step':<24}" + "".join(f"{f'{n:,} objects':>30}" for n in sizes) + f"{'growth':>9}"
        print(head)
        print(f"{'':<24}" + "".join(f"{'s':>9}{'MiB':>8}{'vs peer':>13}" for _ in sizes))
        for name, peer in steps:
            line = f"{name:<24}"
            for n in sizes:
                s, mb = results[n][name]
                ratio = f"{s / results[n][peer][0]:.1f}x {peer.split()[1][:5]}" if peer else ""
                line += f"{s:>9.3f}{mb:>8.1f}{ratio:>13}"
            first, last = results[sizes[0]][name][0], results[sizes[-1]][name][0]
            line += f"{last / first:>8.1f}x"
            print(line)
        print("one-change plan actions: " + ", ".join(f"{results[n]['one-change actions']} at {n:,}" for n in sizes))
        print(f"growth = time at {sizes[-1]:,} / time at {sizes[0]:,} objects ({sizes[-1] // sizes[0]}x the objects)")
    finally:
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
