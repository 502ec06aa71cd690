# Builds a QEMU log-backend trace of virtio_blk events from the request
# timings of the real luring trace (tests/data/traces/qemu/luring.log), using
# the exact format strings of trace-events-all (qemu-system-common 7.2):
#   virtio_blk_handle_read/write "vdev %p req %p sector %"PRIu64" nsectors %zu"
#   virtio_blk_submit_multireq   "vdev %p mrb %p start %d num_reqs %d offset %"PRIu64" size %zu is_write %d"
#   virtio_blk_rw_complete       "vdev %p req %p ret %d"
#   virtio_blk_req_complete      "vdev %p req %p status %d"
# with the log backend's "%d@%zu.%06zu:" prefix. Requests alternate between
# two vdevs; req pointers come from a free list, as QEMU reuses them.
import re, sys
src = sys.argv[1]
ev = []
pend = {}
vdevs = ['0x5581d3c1e2f0', '0x5581d3c3a8d0']
free = ['0x7f0c9c00%04x' % (0x1000 + 0x2a0 * i) for i in range(16)]
tid = 11890
n = 0
for line in open(src):
    m = re.match(r'(\d+)@(\d+)\.(\d+):(\S+) (.*)', line.strip())
    if not m: continue
    t = int(m.group(2)) * 1000000 + int(m.group(3))
    name, args = m.group(4), m.group(5).split()
    if name == 'luring_co_submit':
        cb = args[args.index('luringcb') + 1]; off = int(args[args.index('offset') + 1])
        nb = int(args[args.index('nbytes') + 1]); typ = int(args[args.index('type') + 1])
        vd = vdevs[n % 2]; n += 1
        req = free.pop(0)
        pend[cb] = (vd, req)
        op = 'write' if typ == 2 else 'read'
        ev.append((t - 4, 'virtio_blk_handle_%s vdev %s req %s sector %d nsectors %d' % (op, vd, req, off // 512, nb // 512)))
        ev.append((t - 2, 'virtio_blk_submit_multireq vdev %s mrb 0x7ffd4c6e1a30 start 0 num_reqs 1 offset %d size %d is_write %d' % (vd, off, nb, 1 if typ == 2 else 0)))
    elif name == 'luring_process_completion':
        cb = args[args.index('luringcb') + 1]
        vd, req = pend.pop(cb)
        ev.append((t + 3, 'virtio_blk_rw_complete vdev %s req %s ret 0' % (vd, req)))
        ev.append((t + 4, 'virtio_blk_req_complete vdev %s req %s status 0' % (vd, req)))
        free.append(req)
ev.sort(key=lambda e: e[0])
for t, text in ev:
    print('%d@%d.%06d:%s' % (tid, t // 1000000, t % 1000000, text))
