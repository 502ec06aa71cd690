# Minimal NBD client (fixed newstyle, NBD_OPT_EXPORT_NAME) driving random 4 KiB
# reads/writes with a few requests in flight, to make qemu-storage-daemon
# emit real luring_* trace lines.
import socket, struct, sys, random
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def rd(n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b)); assert c; b += c
    return b
assert rd(8) == b'NBDMAGIC' and rd(8) == b'IHAVEOPT'
(hflags,) = struct.unpack('>H', rd(2))
s.sendall(struct.pack('>I', 3))  # FIXED_NEWSTYLE | NO_ZEROES
name = b'disk0'
s.sendall(b'IHAVEOPT' + struct.pack('>II', 1, len(name)) + name)
size, tflags = struct.unpack('>QH', rd(10))
rng = random.Random(5); depth = int(sys.argv[3]); total = int(sys.argv[2])
sent = done = 0; inflight = {}
def send():
    global sent
    off = rng.randrange(size // 4096) * 4096
    w = rng.random() < 0.3
    h = sent; sent += 1; inflight[h] = w
    s.sendall(struct.pack('>IHHQQI', 0x25609513, 0, 1 if w else 0, h, off, 4096) + (b'\xab' * 4096 if w else b''))
while sent < min(depth, total): send()
while done < total:
    magic, err, h = struct.unpack('>IIQ', rd(16)); assert magic == 0x67446698 and err == 0
    if not inflight.pop(h): rd(4096)
    done += 1
    if sent < total: send()
s.sendall(struct.pack('>IHHQQI', 0x25609513, 0, 2, 0, 0, 0))
