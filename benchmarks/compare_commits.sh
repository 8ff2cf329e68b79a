#!/usr/bin/env bash
# Compare two commits on the same data, in one session, runs interleaved (before, after,
# before, after, ...) so that the noise of a shared machine falls on both alike.
#
#   benchmarks/compare_commits.sh BEFORE AFTER [RUNS]
#
# Each commit is checked out into a scratch worktree with its own venv. The data is one
# `storemon sample` set of full size (14,092 stores), made by BEFORE's generator. Prints
# whole-process wall time and peak RSS (GNU time, the largest process) of an ingest into
# an empty SQLite and of `report --db`, and whether the two reports are byte-identical.
set -euo pipefail
before=${1:?usage: compare_commits.sh BEFORE AFTER [RUNS]}
after=${2:?usage: compare_commits.sh BEFORE AFTER [RUNS]}
runs=${3:-3}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/storemon-compare.XXXXXX")
trap 'git worktree remove --force "$scratch/before" 2>/dev/null; git worktree remove --force "$scratch/after" 2>/dev/null; rm -rf "$scratch"' EXIT

for side in before after; do
    git worktree add -q --detach "$scratch/$side" "${!side}"
    python3 -m venv "$scratch/$side/.venv"
    "$scratch/$side/.venv/bin/pip" install -q -e "$scratch/$side" >&2
done

data=$scratch/data
"$scratch/before/.venv/bin/storemon" sample --output "$data" --stores 14092 --seed 1 >/dev/null
for run in $(seq 1 "$runs"); do
    for side in before after; do
        rm -f "$data/$side.db"*
        /usr/bin/time -f "$side ingest run $run: %e s, %M KB" \
            "$scratch/$side/.venv/bin/storemon" ingest --db "sqlite:///$data/$side.db" \
            --status "$data/store_status.csv" --business-hours "$data/business_hours.csv" \
            --timezones "$data/timezones.csv" >/dev/null
        /usr/bin/time -f "$side report run $run: %e s, %M KB" \
            "$scratch/$side/.venv/bin/storemon" report --db "sqlite:///$data/$side.db" \
            >"$data/$side-report.csv"
    done
done
if cmp -s "$data/before-report.csv" "$data/after-report.csv"; then
    echo "reports byte-identical: yes"
else
    echo "reports byte-identical: NO"
fi
