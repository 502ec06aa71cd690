#!/usr/bin/env python3
"""The guest's turnaround in the captures: from the last virtio_blk_rw_complete
of a batch to the next virtio_blk_handle_read/write (the guest took the
interrupt, fio reaped and resubmitted), and how many submissions follow one
another within 20 us (a burst). Evidence for the guest-vcpus mechanism
(README "Mechanisms beyond DESIGN.md"). Usage: turnaround.py traces/*.log.xz"""
import lzma
import re
import statistics
import sys

EVENT = re.compile(r'(virtio_blk_rw_complete|virtio_blk_handle_read|virtio_blk_handle_write)')
OLD_STAMP = re.compile(r'@(\d+)\.(\d+):')                      # 7.2, 10.0: TID@SEC.USEC:
ISO_STAMP = re.compile(r'T(\d\d):(\d\d):(\d\d)\.(\d+)Z')        # 11.1: ...THH:MM:SS.ffffffZ


def micros(line):
    m = OLD_STAMP.search(line)
    if m:
        return int(m.group(1)) * 1_000_000 + int(m.group(2))
    m = ISO_STAMP.search(line)
    if m:
        h, mi, s, frac = m.groups()
        return ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1_000_000 + int(frac[:6].ljust(6, '0'))
    return None


def summarize(path):
    turnaround, bursts = [], []
    last_complete = prev_t = prev_ev = None
    burst = 0
    for line in lzma.open(path, 'rt', errors='replace'):
        m = EVENT.search(line)
        if not m:
            continue
        t = micros(line)
        if t is None:
            continue
        ev = m.group(1)
        if ev == 'virtio_blk_rw_complete':
            last_complete = t
        else:
            new_burst = prev_ev == 'virtio_blk_rw_complete' or (prev_t is not None and t - prev_t > 20)
            if prev_ev == 'virtio_blk_rw_complete' and last_complete is not None:
                turnaround.append(t - last_complete)
            if new_burst and burst:
                bursts.append(burst)
                burst = 0
            burst += 1
        prev_ev, prev_t = ev, t
    return turnaround, bursts


print('| capture | turnaround median µs | p10 | p90 | n | burst mean | bursts ≥ 4 |')
print('|---|--:|--:|--:|--:|--:|--:|')
for path in sys.argv[1:]:
    turnaround, bursts = summarize(path)
    if len(turnaround) < 10 or not bursts:
        continue
    q = statistics.quantiles(turnaround, n=10)
    big = sum(1 for b in bursts if b >= 4) / len(bursts)
    name = path.rsplit('/', 1)[-1].removesuffix('.log.xz')
    print(f'| {name} | {statistics.median(turnaround):.0f} | {q[0]:.0f} | {q[-1]:.0f} | {len(turnaround)} '
          f'| {statistics.mean(bursts):.1f} | {100 * big:.0f} % |')
