# Builds a binary blktrace stream (struct blk_io_trace, version 7) from a real
# fio run (iolog v3 submit times in us + lat log latencies in ns), so that the
# real blkparse formats it. Used because blktrace cannot open debugfs here.
import struct, sys
MAGIC = 0x65617400 | 0x07
def ACT(c): return c << 16
TC_READ, TC_WRITE, TC_SYNC, TC_QUEUE, TC_ISSUE, TC_COMPLETE, TC_FS, TC_NOTIFY = 1, 2, 8, 16, 64, 128, 256, 1024
TA = dict(Q=1 | ACT(TC_QUEUE), M=2 | ACT(TC_QUEUE), G=4 | ACT(TC_QUEUE), D=7 | ACT(TC_ISSUE),
          C=8 | ACT(TC_COMPLETE), P=9 | ACT(TC_QUEUE), U=10 | ACT(TC_QUEUE), I=12 | ACT(TC_QUEUE))
TN_PROCESS = 0 | ACT(TC_NOTIFY)
def dev(maj, mn): return (maj << 20) | mn
iolog, latlog, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ios = []
for line in open(iolog):
    p = line.split()
    if len(p) == 5 and p[2] in ('read', 'write'):
        ios.append((int(p[0]) * 1000, p[2], int(p[3]), int(p[4])))
lat = {}
for line in open(latlog):
    t, v, d, bs, off, prio = [x.strip() for x in line.split(',')]
    lat.setdefault((int(off), int(d)), []).append(int(v))
ev = []  # (time_ns, action, sector, bytes, pid, device, cpu, error, comm)
pid = 4242
for i, (t, op, off, nb) in enumerate(ios[:n]):
    w = op == 'write'
    rw = ACT(TC_WRITE | TC_SYNC) if w else ACT(TC_READ)
    d = dev(7, 0) if i % 3 else dev(7, 1)
    l = lat[(off, 1 if w else 0)].pop(0)
    sec = off // 512
    cpu = i % 2
    ev.append((t, TA['Q'] | rw | ACT(TC_FS), sec, nb, pid, d, cpu, 0))
    ev.append((t + 350, TA['G'] | rw | ACT(TC_FS), sec, nb, pid, d, cpu, 0))
    if i == 5: ev.append((t + 500, TA['P'], 0, 0, pid, d, cpu, 0))
    ev.append((t + 900, TA['I'] | rw | ACT(TC_FS), sec, nb, pid, d, cpu, 0))
    if i == 5: ev.append((t + 1100, TA['U'], 0, 0, pid, d, cpu, 0))
    ev.append((t + 1500, TA['D'] | rw | ACT(TC_FS), sec, nb, pid, d, cpu, 0))
    ev.append((t + l, TA['C'] | rw | ACT(TC_FS), sec, nb, 0, d, (i + 1) % 2, 0))
    if i == 9:  # a 4 KiB back merge into request 9 (its Q, then M; no own completion)
        ev.append((t + 1700, TA['Q'] | rw | ACT(TC_FS), sec + 8, 4096, pid, d, cpu, 0))
        ev.append((t + 1800, TA['M'] | rw | ACT(TC_FS), sec + 8, 4096, pid, d, cpu, 0))
ev.sort(key=lambda e: e[0])
seq = {}
out = sys.stdout.buffer
for dv in (dev(7, 0), dev(7, 1)):
    for cpu in (0, 1):
        comm = b'fio\0'
        out.write(struct.pack('<IIQQIIIIIHH', MAGIC, 0, 0, 0, 0, TN_PROCESS, pid, dv, cpu, 0, len(comm)) + comm)
for (t, a, sec, nb, p, d, cpu, err) in ev:
    seq[(d, cpu)] = seq.get((d, cpu), 0) + 1
    out.write(struct.pack('<IIQQIIIIIHH', MAGIC, seq[(d, cpu)], t, sec, nb, a, p, d, cpu, err, 0))
