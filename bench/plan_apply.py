#!/usr/bin/env python3
"""converge plan/apply benchmark.

Generates a Git repository of N objects spread over C simulated clusters (default 10,000 objects
across 20 clusters), then measures, each as a separate converge process on a fresh state dir:
  cold plan      first plan: fetch, parse every file, observe empty clusters, diff, order
  apply          create the clusters and every object (sim timings 0: measures converge, not waits)
  no-op plan     the commit did not change and nothing live moved
  one-change plan  a commit that changes one Deployment
and the peak resident memory of each. As a peer in the same run, `git clone --mirror` of the same
repository (what any GitOps tool must do at least once) is timed, and ratios are printed.

Usage: bench/plan_apply.py [--converge build/release/converge] [--objects 10000] [--clusters 20]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def measured(cmd):
    """Runs cmd inside a fresh python child so its peak RSS is isolated. Returns (s, MiB, rc, out)."""
    helper = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.PIPE,text=True);"
        "e=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'s':e,'kb':r,'rc':p.returncode,'out':p.stdout[-2000:],'err':p.stderr[-2000:]}))"
    )
    proc = subprocess.run([sys.executable, "-c", helper] + cmd, stdout=subprocess.PIPE, text=True, check=True)
    import json
    r = json.loads(proc.stdout)
    if r["rc"] not in (0, 2):
        sys.stderr.write(f"command failed ({r['rc']}): {' '.join(cmd)}\n{r['err']}\n")
        sys.exit(1)
    return r["s"], r["kb"] / 1024.0, r["rc"], r["out"]


def generate(repo, objects, clusters):
    os.makedirs(repo)
    w = lambda p, s: open(os.path.join(repo, p), "w").write(s)
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
      count: 4
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
            w(f"apps/{name}/part-{f // 10:03d}.yaml", "---\n".join(docs[f:f + 10]))
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@converge.dev"]
    subprocess.run(["git", "-C", repo, "init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "bench fleet"], check=True)
    return git


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--converge", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "converge"))
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    conv = os.path.abspath(a.converge)
    if not os.path.exists(conv):
        sys.exit(f"no converge binary at {conv}: run scripts/build.sh release first")

    tmp = tempfile.mkdtemp(prefix="converge-bench-")
    try:
        repo = os.path.join(tmp, "repo")
        t0 = time.perf_counter()
        git = generate(repo, a.objects, a.clusters)
        gen = time.perf_counter() - t0
        state = os.path.join(tmp, "state")
        url = "file://" + repo
        base = [conv, "--state-dir", state]

        git_s, git_mb, _, _ = measured(["git", "clone", "-q", "--mirror", url, os.path.join(tmp, "mirror.git")])
        cold_s, cold_mb, rc, _ = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
        assert rc == 2, "cold plan should have changes"
        apply_s, apply_mb, _, out = measured(base + ["apply", "--repo", url, "--parallelism", "4"])
        noop_s, noop_mb, rc, out = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
        if rc != 0:
            # The first plan after an apply may refresh live versions that moved as pods started.
            noop_s, noop_mb, rc, out = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
        assert rc == 0, "no-op plan should be empty:\n" + out
        noop2_s, noop2_mb, rc, _ = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])

        p = os.path.join(repo, "apps", "c00", "part-000.yaml")
        s = open(p).read().replace("replicas: 1", "replicas: 2", 1)
        open(p, "w").write(s)
        subprocess.run(git + ["commit", "-q", "-am", "scale one"], check=True)
        one_s, one_mb, rc, _ = measured(base + ["plan", "--repo", url, "--detailed-exitcode"])
        assert rc == 2

        cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip()
        print(f"machine: {os.cpu_count()} cores, {cpu}")
        print(f"fleet: {a.objects} objects across {a.clusters} simulated clusters "
              f"({len(os.listdir(os.path.join(repo, 'apps', 'c00')))} files per cluster; generated in {gen:.1f}s)")
        print(f"{'step':<22}{'seconds':>10}{'peak MiB':>10}{'vs git clone':>14}")
        rows = [("git clone --mirror", git_s, git_mb), ("cold plan", cold_s, cold_mb), ("apply", apply_s, apply_mb),
                ("no-op plan", noop_s, noop_mb), ("no-op plan (again)", noop2_s, noop2_mb),
                ("one-change plan", one_s, one_mb)]
        for name, s, mb in rows:
            print(f"{name:<22}{s:>10.3f}{mb:>10.1f}{s / git_s:>13.1f}x")
    finally:
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
