#!/usr/bin/env python3
"""The README's policy-lab table from results/policy-lab/results.csv (made by
`pollsim sweep configs/sweeps/policy-lab.yaml --out results/policy-lab --plot`):
IOThread CPU %, p99 latency µs and cost.total over the oracle's, per policy
and workload. Usage: table.py [results.csv] > table.md"""
import csv
import sys

path = sys.argv[1] if len(sys.argv) > 1 else 'results/policy-lab/results.csv'
rows = list(csv.DictReader(open(path)))
workloads = []
for r in rows:
    if r['workload.type'] not in workloads:
        workloads.append(r['workload.type'])
names = {'poisson': 'Poisson', 'onoff': 'on/off', 'trace': 'trace'}


def label(r):
    return f"weighted w={r['iothread.poll-weight']}" if r['policy'] == 'weighted' else r['policy']


policies = []
for r in rows:
    if label(r) not in policies:
        policies.append(label(r))
cell = {(r['workload.type'], label(r)): r for r in rows}
head = ' | '.join(f'{names.get(w, w)} CPU % | p99 µs | ratio' for w in workloads)
print(f'| policy | {head} |')
print('|---|' + '--:|' * (3 * len(workloads)))
for p in policies:
    out = []
    for w in workloads:
        r = cell[(w, p)]
        out += [f"{100 * float(r['cpu.iothread_util.mean']):.1f}", f"{float(r['latency_ns.p99.mean']) / 1000:.0f}",
                f"{float(r['cost.ratio_to_oracle.mean']):.2f}"]
    print(f"| {p} | " + ' | '.join(out) + ' |')
