#!/usr/bin/env bash
# Sets up, builds, and converges the simulated example fleet from a fresh Git repository:
# examples/fleet is committed to a new repo (converge pulls from Git, never from a folder), applied
# with --wait, and the fleet's status printed. State lives in .state/quickstart (removed first).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
scripts/setup.sh
scripts/build.sh release
converge="$root/build/release/converge"

state="$root/.state/quickstart"
repo="$root/.state/quickstart-repo"
rm -rf "$state" "$repo"
mkdir -p "$repo"
cp -r examples/fleet/. "$repo/"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=converge -c user.email=quickstart@converge.dev add -A
git -C "$repo" -c user.name=converge -c user.email=quickstart@converge.dev commit -q -m "example fleet"

echo
echo "== converge plan (fleet repo at $repo)"
"$converge" --state-dir "$state" plan --repo "$repo" | tail -n 3
echo
echo "== converge apply --wait"
"$converge" --state-dir "$state" apply --repo "$repo" --wait
echo
echo "== converge status"
"$converge" --state-dir "$state" status
echo
echo "Try next:"
echo "  $converge --state-dir $state sim list"
echo "  $converge --state-dir $state sim patch prod-cn-north-4 deployment guestbook/frontend '{\"spec\":{\"replicas\":1}}'"
echo "  $converge --state-dir $state plan --repo $repo"
