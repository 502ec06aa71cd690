#!/bin/bash
# Real-QEMU capture for pollsim: IOThread poll traces (set 1) and CPU A/B runs
# (set 2) from a busybox+fio guest on virtio-blk + null-aio, under TCG.
# NOT run by CI. Needs Debian 12 (root) with
#   apt-get install qemu-system-x86 linux-image-amd64 busybox-static cpio fio debootstrap xz-utils python3
#
# Usage: capture.sh setup | traces [NAME-REGEX] | trim | cpu | summarize | all
#   setup: chroots, guest initramfs, version/event checks; traces: set 1 (one boot per
#   point, trims into $OUT/traces); trim: re-trim the points kept in $WORK/raw;
#   cpu: set 2 into $OUT/cpu; summarize: CPU table into $OUT/README.md
# Environment (defaults in brackets):
#   WORK      work dir, not committed [/tmp/realqemu-work]
#   CHROOTS   parent of the trixie/sid chroots [/srv/chroots]
#   OUT       committed output dir [the directory of this script]
#   RUNTIME   fio runtime per run, s [3]
#   CUT       trace trim: keep the log up to fio start + CUT s [3.5]
#   REPS      repetitions of the CPU set [8]
#   SEED      seed of the per-rep config order of the CPU set [20261130]
#   KEEP_RAW  trace points whose untrimmed log is kept in $WORK/raw (regex)
#             [lat100us-randread-nj1 of 7.2 g2s2, 10.0 g2s2 and 11.1 w2]
# QEMU versions: 7.2 = host (Debian 12), 10.0 = $CHROOTS/trixie, 11.1 = $CHROOTS/sid;
# chroots are made with debootstrap when missing, from the mirror URI in
# /etc/apt/sources.list.d/debian.sources.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${WORK:-/tmp/realqemu-work}
CHROOTS=${CHROOTS:-/srv/chroots}
OUT=${OUT:-$HERE}
RUNTIME=${RUNTIME:-3}
CUT=${CUT:-3.5}
REPS=${REPS:-8}
SEED=${SEED:-20261130}
KEEP_RAW=${KEEP_RAW:-'^(qemu7\.2-legacy-global-g2s2|qemu10\.0-legacy-g2s2|qemu11\.1-weighted-w2)-lat100us-randread-nj1$'}
EVENTS="poll_grow poll_shrink run_poll_handlers_begin run_poll_handlers_end poll_add poll_remove virtio_blk_handle_read virtio_blk_handle_write virtio_blk_rw_complete"
BASEOPTS=(-machine q35 -accel tcg -smp 1 -m 512 -nographic -no-reboot -name g,debug-threads=on)

declare -A SUITE=([7.2]="" [10.0]=trixie [11.1]=sid)

log() { echo "[capture $(date -u +%H:%M:%S)] $*" >&2; }

chroot_dir() { local s=${SUITE[$1]}; [ -z "$s" ] && echo "" || echo "$CHROOTS/$s"; }
# a chroot is ready when its qemu is installed and debootstrap has finished
chroot_ready() { local d; d=$(chroot_dir "$1"); [ -z "$d" ] || { [ -x "$d/usr/bin/qemu-system-x86_64" ] && [ ! -d "$d/debootstrap" ]; }; }

# qemu VERSION ARGS...: run that version's qemu-system-x86_64 (in its chroot)
qemu() {
    local d; d=$(chroot_dir "$1"); shift
    if [ -z "$d" ]; then qemu-system-x86_64 "$@"; else chroot "$d" qemu-system-x86_64 "$@"; fi
}
qemu_cmd() {  # prints the command prefix as words, one per line
    local d; d=$(chroot_dir "$1")
    [ -n "$d" ] && printf '%s\n' chroot "$d"
    echo qemu-system-x86_64
}

mirror_uri() {
    awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources
}

make_chroots() {
    local v d s
    for v in 10.0 11.1; do
        s=${SUITE[$v]}; d=$CHROOTS/$s
        if ! chroot_ready "$v"; then
            log "debootstrap $s into $d"
            mkdir -p "$CHROOTS"
            debootstrap --variant=minbase --include=qemu-system-x86 "$s" "$d" "$(mirror_uri)"
        fi
    done
}

MOUNTED=()
mount_chroots() {
    local v d m
    for v in 10.0 11.1; do
        chroot_ready "$v" || { log "chroot of $v not ready: not mounted"; continue; }
        d=$(chroot_dir "$v")
        for m in /dev /proc /sys "$WORK"; do
            mkdir -p "$d$m"
            if ! mountpoint -q "$d$m"; then
                mount --bind "$m" "$d$m"
                MOUNTED+=("$d$m")
            fi
        done
    done
}
umount_chroots() {
    local i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTED[$i]}" || umount -l "${MOUNTED[$i]}" || true
    done
    MOUNTED=()
}
trap umount_chroots EXIT INT TERM

# ---------------------------------------------------------------------------
# Guest: busybox + host fio with all its libraries + virtio modules.
# The plan (the fio runs) comes from the kernel command line:
#   psplan=TAG:SERIAL:RW:NJ,...  psrt=RUNTIME
# SERIAL picks the disk by its virtio serial (/sys/block/vdX/serial); empty -> /dev/vda.
# ---------------------------------------------------------------------------
build_guest() {
    local KVER R f m lib
    KVER=$(ls /lib/modules | sort -V | tail -n 1)
    R=$WORK/guest/root
    rm -rf "$WORK/guest" && mkdir -p "$R"/{bin,dev,proc,sys,tmp,usr/bin,lib/modules}
    cp /bin/busybox "$R/bin/busybox"
    cp /usr/bin/fio "$R/usr/bin/fio"
    for lib in $(ldd /usr/bin/fio | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done
    for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev \
             virtio/virtio_pci block/virtio_blk; do
        f=$(ls /lib/modules/"$KVER"/kernel/drivers/$m.ko* 2>/dev/null | head -n 1)
        [ -n "$f" ] || continue
        case $f in
            *.xz) xz -dc "$f" > "$R/lib/modules/$(basename "$m").ko" ;;
            *.zst) zstd -qdc "$f" > "$R/lib/modules/$(basename "$m").ko" ;;
            *) cp "$f" "$R/lib/modules/$(basename "$m").ko" ;;
        esac
    done
    cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
plan=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^psplan=//p')
rt=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^psrt=//p')
sleep 1
for b in /sys/block/vd*; do echo "@@DISK ${b##*/} serial=$(cat $b/serial 2>/dev/null) size=$(cat $b/size)"; done
echo "@@FIO-VERSION $(fio --version)"
for item in $(echo "$plan" | tr ',' ' '); do
    IFS=: read tag ser rw nj <<EOF
$item
EOF
    dev=/dev/vda
    for b in /sys/block/vd*; do
        [ -n "$ser" ] && [ "$(cat $b/serial 2>/dev/null)" = "$ser" ] && dev=/dev/${b##*/}
    done
    cmd="fio --name=j --filename=$dev --direct=1 --ioengine=libaio --rw=$rw --bs=4k --iodepth=8 --numjobs=$nj --group_reporting --runtime=$rt --time_based --eta=never --exec_prerun=/bin/psio-start --exec_postrun=/bin/psio-end --lat_percentiles=1 --output-format=json --output=/tmp/out.json"
    echo "@@FIO-START $tag $dev"
    $cmd 2>/tmp/err
    rc=$?
    echo "@@FIO-END $tag rc=$rc"
    echo "@@CMD $tag $cmd"
    echo "@@JSON-BEGIN $tag"
    cat /tmp/out.json
    echo
    echo "@@JSON-END $tag"
    sed "s/^/@@ERR $tag /" /tmp/err
    rm -f /tmp/out.json /tmp/err
done
echo "@@GUEST-DONE"
poweroff -f
INIT
    chmod +x "$R/init"
    # fio runs these in each job right before its first I/O and after its last
    printf '#!/bin/sh\necho @@IO-START > /dev/console\n' > "$R/bin/psio-start"
    printf '#!/bin/sh\necho @@IO-END > /dev/console\n' > "$R/bin/psio-end"
    chmod +x "$R/bin/psio-start" "$R/bin/psio-end"
    (cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/guest/initramfs.cpio.gz"
    cp "/boot/vmlinuz-$KVER" "$WORK/guest/vmlinuz"
    echo "$KVER" > "$WORK/guest/kernel-version"
    log "guest: $(du -h "$WORK/guest/initramfs.cpio.gz" | cut -f1) initramfs, kernel $KVER"
}

# ---------------------------------------------------------------------------
# Python helper: runs and samples one boot, trims logs, writes sidecars/CSV,
# summarizes. Written to $WORK/helper.py.
# ---------------------------------------------------------------------------
write_helper() {
    mkdir -p "$WORK"
    cat > "$WORK/helper.py" <<'PY'
import sys, os, re, json, time, subprocess, csv, math, random, datetime, lzma

CLK_TCK = os.sysconf('SC_CLK_TCK')

def wall_str(ns):
    return '%d.%06d' % (ns // 10**9, (ns % 10**9) // 1000)

def find_iothread(pid):
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as f:
                if f.read().strip() == 'IO io0':
                    return int(tid)
        except OSError:
            pass
    return None

def sample(pid, tid):
    s = {'wall_ns': time.time_ns()}
    with open('/proc/%d/task/%d/schedstat' % (pid, tid)) as f:
        s['io_ns'] = int(f.read().split()[0])
    with open('/proc/%d/stat' % pid) as f:
        st = f.read().rsplit(')', 1)[1].split()
        s['proc_ns'] = (int(st[11]) + int(st[12])) * 10**9 // CLK_TCK   # utime, stime
    with open('/proc/loadavg') as f:
        s['loadavg'] = ' '.join(f.read().split()[:3])
    return s

def trim_fio(j):
    job = j['jobs'][0]
    out = {'fio_version': j.get('fio version'), 'jobs': [{}]}
    for d in ('read', 'write'):
        x = job[d]
        lat = x.get('lat_ns', {})
        out['jobs'][0][d] = {
            'iops': x['iops'], 'bw_bytes': x['bw_bytes'], 'total_ios': x['total_ios'],
            'lat_ns': {k: lat[k] for k in ('mean', 'min', 'max', 'stddev', 'percentile') if k in lat},
        }
    return out

def run_boot(argv):
    """run_boot CONSOLE RESULT TIMEOUT -- CMD...: run QEMU, sample at markers."""
    console, result, timeout = argv[0], argv[1], float(argv[2])
    cmd = argv[4:]
    runs, order, pos, buf = {}, [], 0, ''
    t0 = time.time()
    with open(console, 'wb') as cf:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=cf, stderr=subprocess.STDOUT)
    tid = None
    done = False
    with open(console, 'rb') as f:
        while True:
            chunk = f.read()
            if chunk:
                buf += chunk.decode('utf-8', 'replace')
                *lines, buf = buf.split('\n')
                for line in lines:
                    line = line.rstrip('\r')
                    m = re.search(r"@@FIO-(START|END) (\S+)", line)
                    if m:
                        if tid is None:
                            tid = find_iothread(p.pid)
                        s = sample(p.pid, tid)
                        tag = m.group(2)
                        if m.group(1) == 'START':
                            runs[tag] = {'start': s}
                            order.append(tag)
                        else:
                            runs[tag]['end'] = s
                            mm = re.search(r'rc=(\d+)', line)
                            runs[tag]['rc'] = int(mm.group(1)) if mm else None
                    m = re.search(r"@@IO-(START|END)", line)
                    if m and order and 'end' not in runs[order[-1]]:
                        s = sample(p.pid, tid)
                        r = runs[order[-1]]
                        if m.group(1) == 'START':
                            r.setdefault('io_start', s)     # first job's first I/O
                        else:
                            r['io_end'] = s                 # last job's end
                    if "@@GUEST-DONE" in line:
                        done = True
            if p.poll() is not None:
                break
            if time.time() - t0 > timeout:
                p.kill(); p.wait()
                break
            time.sleep(0.02)
    rc = p.wait()
    # fio JSON and the exact command, from the console
    text = open(console, 'rb').read().decode('utf-8', 'replace').replace('\r', '')
    for tag in order:
        m = re.search(r'^@@JSON-BEGIN %s\n(.*?)^@@JSON-END %s$' % (re.escape(tag), re.escape(tag)), text, re.S | re.M)
        r = runs[tag]
        try:
            # fio's log_info lines ("j : Saving output of prerun ...") precede the JSON
            r['fio_full'] = json.loads(m.group(1)[m.group(1).index('{'):]) if m else None
        except ValueError:
            r['fio_full'] = None
        m = re.search(r'^@@CMD %s (.*)$' % re.escape(tag), text, re.M)
        r['guest_cmd'] = m.group(1) if m else None
        # the measured window: first job's first I/O .. last job's end (fio's exec_prerun /
        # exec_postrun markers); the outer FIO-START/END markers also cover fio's start-up
        a, b = r.get('io_start', r['start']), r.get('io_end', r.get('end'))
        r['window'] = 'io' if 'io_start' in r and 'io_end' in r else 'fio'
        r['win_start'], r['win_end'] = a, b
        if b:
            dw = b['wall_ns'] - a['wall_ns']
            r['wall_s'] = dw / 1e9
            r['iothread_cpu'] = (b['io_ns'] - a['io_ns']) / dw
            r['qemu_process_cpu'] = (b['proc_ns'] - a['proc_ns']) / dw
    m = re.search(r'^@@FIO-VERSION (\S+)', text, re.M)
    res = {'qemu_rc': rc, 'guest_done': done, 'boot_s': time.time() - t0, 'order': order, 'runs': runs,
           'fio_version': m.group(1) if m else None, 'iothread_tid': tid}
    with open(result, 'w') as f:
        json.dump(res, f, indent=1)
    ok = done and all(runs[t].get('end') and runs[t].get('rc') == 0 and runs[t].get('fio_full') for t in order)
    sys.exit(0 if ok else 1)

TS_TID = re.compile(r'^(\d+)@(\d+)\.(\d{6}):')
TS_ISO = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z ')

def line_ts_us(line):
    m = TS_TID.match(line)
    if m:
        return int(m.group(2)) * 10**6 + int(m.group(3)), 'tid@sec.usec'
    m = TS_ISO.match(line)
    if m:
        d = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
        return int(d.timestamp()) * 10**6 + int(m.group(2)), 'iso8601'
    return None, None

def trace_post(argv):
    """trace_post RESULT RAWLOG OUTDIR NAME META_JSON CUT KEEPRAW_DIR|-"""
    result, rawlog, outdir, name, meta, cut, keepdir = argv
    cut = float(cut)
    res = json.load(open(result))
    meta = json.loads(meta)
    tag = res['order'][0]
    r = res['runs'][tag]
    start_us = r['win_start']['wall_ns'] // 1000
    cut_us = start_us + int(round(cut * 1e6))
    fmt = None
    kept, raw = [], 0
    stop = False
    first_io_us = None
    with open(rawlog, 'r', errors='replace') as f:
        for line in f:
            raw += 1
            t, fm = line_ts_us(line)
            if fm and not fmt:
                fmt = fm
            if first_io_us is None and t is not None and t >= start_us and 'virtio_blk_handle_' in line:
                first_io_us = t
            if stop:
                continue
            if t is not None and t > cut_us:
                stop = True
                continue
            kept.append(line)
    os.makedirs(outdir, exist_ok=True)
    with lzma.open(os.path.join(outdir, name + '.log.xz'), 'wt', preset=9) as f:
        f.writelines(kept)
    side = {
        'qemu_version': meta['qemu_version'], 'policy': meta['policy'], 'iothread': meta['iothread'],
        'latency_ns': meta['latency_ns'], 'rw': meta['rw'], 'numjobs': meta['numjobs'],
        'iodepth': meta['iodepth'], 'fio_runtime_s': meta['fio_runtime_s'],
        'log': name + '.log.xz', 'log_format': fmt,
        'trim': {'cut_after_fio_start_s': cut, 'lines_raw': raw, 'lines_kept': len(kept)},
        'fio_start_wall': wall_str(r['win_start']['wall_ns']), 'fio_end_wall': wall_str(r['win_end']['wall_ns']),
        'iothread_cpu': round(r['iothread_cpu'], 6), 'qemu_process_cpu': round(r['qemu_process_cpu'], 6),
        'loadavg_start': r['win_start']['loadavg'], 'fio': trim_fio(r['fio_full']),
    }
    with open(os.path.join(outdir, name + '.json'), 'w') as f:
        json.dump(side, f, indent=1)
        f.write('\n')
    print('%s: %d/%d lines kept, format %s, first I/O %.3f s after start marker, iothread_cpu %.3f'
          % (name, len(kept), raw, fmt, (first_io_us - start_us) / 1e6 if first_io_us else float('nan'),
             r['iothread_cpu']))

CSV_COLS = ['rep', 'boot_order', 'qemu_version', 'policy', 'config', 'iothread', 'latency_ns', 'rw', 'numjobs',
            'fio_iops', 'fio_lat_mean_ns', 'iothread_cpu', 'qemu_process_cpu', 'wall_s', 'loadavg_start']

def cpu_post(argv):
    """cpu_post RESULT OUTDIR META_JSON: append the boot's rows to runs.csv and fio/runs.jsonl"""
    result, outdir, meta = argv
    res = json.load(open(result))
    meta = json.loads(meta)
    csvp = os.path.join(outdir, 'runs.csv')
    new = not os.path.exists(csvp)
    os.makedirs(os.path.join(outdir, 'fio'), exist_ok=True)
    with open(csvp, 'a', newline='') as cf, open(os.path.join(outdir, 'fio', 'runs.jsonl'), 'a') as jf:
        w = csv.writer(cf)
        if new:
            w.writerow(CSV_COLS)
        for tag in res['order']:
            r = res['runs'][tag]
            lat_ns = meta['disks'][tag.split('-')[0]]
            rw = tag.split('-')[1]
            nj = int(tag.split('-')[2][2:])
            fio = trim_fio(r['fio_full'])
            x = fio['jobs'][0]['read' if rw.endswith('read') else 'write']
            w.writerow([meta['rep'], meta['boot_order'], meta['qemu_version'], meta['policy'], meta['config'],
                        meta['iothread'], lat_ns, rw, nj, '%.1f' % x['iops'], '%.0f' % x['lat_ns']['mean'],
                        '%.6f' % r['iothread_cpu'], '%.6f' % r['qemu_process_cpu'], '%.3f' % r['wall_s'],
                        r['win_start']['loadavg']])
            jf.write(json.dumps({'rep': meta['rep'], 'boot_order': meta['boot_order'], 'config': meta['config'],
                                 'qemu_version': meta['qemu_version'], 'iothread': meta['iothread'],
                                 'latency_ns': lat_ns, 'rw': rw, 'numjobs': nj,
                                 'fio_start_wall': wall_str(r['win_start']['wall_ns']),
                                 'fio_end_wall': wall_str(r['win_end']['wall_ns']), 'window': r['window'], 'fio': fio}) + '\n')

def cpu_order(argv):
    """cpu_order REPS SEED CONFIG...: print 'rep config' lines, interleaved, shuffled per rep"""
    reps, seed, cfgs = int(argv[0]), int(argv[1]), argv[2:]
    rng = random.Random(seed)
    for rep in range(1, reps + 1):
        c = list(cfgs)
        rng.shuffle(c)
        for x in c:
            print(rep, x)

# two-sided 95 % t quantiles, df 1..30
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
       2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
       2.045, 2.042]

def tint(xs):
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, float('nan')
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    t = T95[n - 2] if n - 1 <= 30 else 1.96
    return m, t * sd / math.sqrt(n)

def summarize(argv):
    """summarize RUNS_CSV README: write the CPU table between the markers of README"""
    csvp, readme = argv
    rows = list(csv.DictReader(open(csvp)))
    cfgs = ['weighted-w2', 'weighted-w3', 'legacy', 'nopoll']
    data = {}
    for r in rows:
        k = (int(r['latency_ns']), r['rw'], int(r['numjobs']))
        data.setdefault(k, {}).setdefault(r['config'], {})[int(r['rep'])] = (float(r['iothread_cpu']), float(r['fio_iops']))
    nreps = len({r['rep'] for r in rows})
    out = []
    out.append('%d runs, %d reps; mean ± 95 %% t-interval over the reps, [min..max] over the reps.\n' % (len(rows), nreps))
    out.append('| lat | rw | nj | config | IOThread CPU | [min..max] | IOPS | [min..max] |')
    out.append('|---|---|---|---|---|---|---|---|')
    for k in sorted(data):
        for c in cfgs:
            d = data[k].get(c)
            if not d:
                continue
            cpu = [v[0] for v in d.values()]
            iops = [v[1] for v in d.values()]
            mc, hc = tint(cpu)
            mi, hi = tint(iops)
            out.append('| %d µs | %s | %d | %s | %.3f ± %.3f | %.3f..%.3f | %.0f ± %.0f | %.0f..%.0f |'
                       % (k[0] // 1000, k[1], k[2], c, mc, hc, min(cpu), max(cpu), mi, hi, min(iops), max(iops)))
    out.append('')
    out.append('Change of weighted vs legacy and vs no polling, in %: paired by rep, mean ± 95 % t-interval of the per-rep change (100·(w − ref)/ref).\n')
    out.append('| lat | rw | nj | config | CPU vs legacy | CPU vs nopoll | IOPS vs legacy | IOPS vs nopoll |')
    out.append('|---|---|---|---|---|---|---|---|')
    total, excl = [0], []
    for k in sorted(data):
        for c in ('weighted-w2', 'weighted-w3'):
            d = data[k].get(c)
            if not d:
                continue
            cells = []
            for idx in (0, 1):
                for ref in ('legacy', 'nopoll'):
                    rd = data[k].get(ref, {})
                    ch = [100.0 * (d[rep][idx] - rd[rep][idx]) / rd[rep][idx]
                          for rep in sorted(d) if rep in rd and rd[rep][idx] != 0]
                    if ch:
                        m, h = tint(ch)
                        cells.append('%+.1f ± %.1f' % (m, h))
                        total[0] += 1
                        if abs(m) > h:
                            excl.append('%s %s vs %s at %d µs %s nj%d: %+.1f ± %.1f %%'
                                        % (c, ('CPU', 'IOPS')[idx], ref, k[0] // 1000, k[1], k[2], m, h))
                    else:
                        cells.append('n/a')
            out.append('| %d µs | %s | %d | %s | %s | %s | %s | %s |'
                       % (k[0] // 1000, k[1], k[2], c, cells[0], cells[1], cells[2], cells[3]))
    out.append('')
    out.append('Change intervals that exclude 0: %d of %d%s' % (len(excl), total[0], ':' if excl else '.'))
    out.extend('- ' + e for e in excl)
    table = '\n'.join(out) + '\n'
    text = open(readme).read()
    b, e = '<!-- cpu-table-begin -->\n', '<!-- cpu-table-end -->'
    i, j = text.find(b), text.find(e)
    if i < 0 or j < 0:
        print(table)
        return
    text = text[:i + len(b)] + table + text[j:]
    with open(readme, 'w') as f:
        f.write(text)
    print(table)

if __name__ == '__main__':
    {'run_boot': run_boot, 'trace_post': trace_post, 'cpu_post': cpu_post, 'cpu_order': cpu_order,
     'summarize': summarize}[sys.argv[1]](sys.argv[2:])
PY
}

H() { python3 "$WORK/helper.py" "$@"; }

qemu_version() { qemu "$1" --version | head -n 1; }

# check_events VERSION: writes $WORK/events-VERSION.txt (EVENT yes|no per line,
# both from trace-events-all and from -trace help)
check_events() {
    local v=$1 d e tea th
    d=$(chroot_dir "$v")
    tea=$d/usr/share/qemu/trace-events-all
    th=$(qemu "$v" -trace help 2>&1 || true)
    : > "$WORK/events-$v.txt"
    for e in $EVENTS; do
        local a=no b=no
        grep -q "^$e(" "$tea" && a=yes
        grep -qx "$e" <<<"$th" && b=yes
        echo "$e trace-events-all=$a trace-help=$b" >> "$WORK/events-$v.txt"
    done
}
trace_args() {
    local v=$1 e
    for e in $EVENTS; do
        grep -q "^$e trace-events-all=yes trace-help=yes" "$WORK/events-$v.txt" && printf -- '-trace\n%s\n' "$e"
    done
}

cmd_setup() {
    make_chroots
    mkdir -p "$WORK"
    write_helper
    build_guest
    mount_chroots
    local v
    for v in 7.2 10.0 11.1; do
        qemu_version "$v" > "$WORK/version-$v.txt"
        check_events "$v"
        log "$v: $(cat "$WORK/version-$v.txt")"
    done
    qemu 11.1 -object iothread,help | grep -q poll-weight || { log "11.1 has no poll-weight"; exit 1; }
}

ensure_ready() {
    [ -f "$WORK/helper.py" ] && [ -f "$WORK/guest/initramfs.cpio.gz" ] || cmd_setup
    write_helper
    mount_chroots
    local v
    for v in 7.2 10.0 11.1; do
        chroot_ready "$v" || continue
        [ -f "$WORK/events-$v.txt" ] || check_events "$v"
        qemu_version "$v" > "$WORK/version-$v.txt"
    done
}

# boot VERSION CONSOLE RESULT TIMEOUT PLAN QEMU-ARGS...
boot() {
    local v=$1 console=$2 result=$3 timeout=$4 plan=$5; shift 5
    local -a pre
    mapfile -t pre < <(qemu_cmd "$v")
    H run_boot "$console" "$result" "$timeout" -- "${pre[@]}" "${BASEOPTS[@]}" \
        -kernel "$WORK/guest/vmlinuz" -initrd "$WORK/guest/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet psplan=$plan psrt=$RUNTIME" "$@"
}

cmd_traces() {
    local filter=${1:-.}
    ensure_ready
    local tdir=$OUT/traces
    mkdir -p "$tdir" "$WORK/traces" "$WORK/raw"
    local -a points=()
    local lat rw nj p
    # version policy knob props
    for p in "7.2 legacy-global g0s0 poll-max-ns=32768,poll-grow=0,poll-shrink=0" \
             "7.2 legacy-global g2s2 poll-max-ns=32768,poll-grow=2,poll-shrink=2" \
             "10.0 legacy g0s0 poll-max-ns=32768,poll-grow=0,poll-shrink=0" \
             "10.0 legacy g2s2 poll-max-ns=32768,poll-grow=2,poll-shrink=2" \
             "11.1 weighted w1 poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=1" \
             "11.1 weighted w2 poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=2" \
             "11.1 weighted w3 poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3" \
             "11.1 weighted w5 poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=5"; do
        for lat in 20000 100000 500000; do
            for rw in "randread 1" "randwrite 4"; do
                points+=("$p $lat $rw")
            done
        done
    done
    local v pol knob props name rlog res meta tries
    local -a targs
    for p in "${points[@]}"; do
        read -r v pol knob props lat rw nj <<<"$p"
        name=qemu$v-$pol-$knob-lat$((lat / 1000))us-$rw-nj$nj
        [[ $name =~ $filter ]] || continue
        mapfile -t targs < <(trace_args "$v")
        rlog=$WORK/traces/$name.log
        res=$WORK/traces/$name.result.json
        for tries in 1 2 3; do
            rm -f "$rlog"
            if boot "$v" "$WORK/traces/$name.console" "$res" 120 "$name::$rw:$nj" \
                -msg timestamp=on -D "$rlog" "${targs[@]}" \
                -object iothread,id=io0,"$props" \
                -blockdev driver=null-aio,node-name=n0,size=1073741824,latency-ns=$lat \
                -device virtio-blk-pci,drive=n0,iothread=io0; then
                break
            fi
            log "$name: boot $tries failed"
            [ "$tries" = 3 ] && exit 1
        done
        meta=$(printf '{"qemu_version":"%s","policy":"%s","iothread":"%s","latency_ns":%d,"rw":"%s","numjobs":%d,"iodepth":8,"fio_runtime_s":%d}' \
            "$(cat "$WORK/version-$v.txt")" "$pol" "$props" "$lat" "$rw" "$nj" "$RUNTIME")
        echo "$meta" > "$WORK/traces/$name.meta.json"
        H trace_post "$res" "$rlog" "$tdir" "$name" "$meta" "$CUT" -
        if [[ $name =~ $KEEP_RAW ]]; then mv "$rlog" "$WORK/raw/$name.log"; else rm -f "$rlog"; fi
    done
}

# re-trim every point whose untrimmed log is in $WORK/raw (e.g. with another CUT)
cmd_trim() {
    ensure_ready
    local rlog name meta
    for rlog in "$WORK"/raw/*.log; do
        name=$(basename "$rlog" .log)
        meta=$(cat "$WORK/traces/$name.meta.json")
        H trace_post "$WORK/traces/$name.result.json" "$rlog" "$OUT/traces" "$name" "$meta" "$CUT" -
    done
}

cmd_cpu() {
    ensure_ready
    local cdir=$OUT/cpu
    mkdir -p "$cdir" "$WORK/cpu"
    rm -f "$cdir/runs.csv" "$cdir/fio/runs.jsonl"
    declare -A CV=([weighted-w2]=11.1 [weighted-w3]=11.1 [legacy]=10.0 [nopoll]=10.0)
    declare -A CP=([weighted-w2]=weighted [weighted-w3]=weighted [legacy]=legacy [nopoll]=legacy)
    declare -A CPROPS=([weighted-w2]=poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=2
                       [weighted-w3]=poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3
                       [legacy]=poll-max-ns=32768,poll-grow=0,poll-shrink=0
                       [nopoll]=poll-max-ns=0)
    # 12 runs per boot, fixed order; tag = DISK-RW-njN
    local plan="" lat rw nj
    for lat in 20 100 500; do for rw in randread randwrite; do for nj in 1 4; do
        plan+="${plan:+,}n$lat-$rw-nj$nj:n$lat:$rw:$nj"
    done; done; done
    local bo=0 rep c v res meta tries
    while read -r rep c; do
        bo=$((bo + 1))
        v=${CV[$c]}
        res=$WORK/cpu/boot$bo-rep$rep-$c.result.json
        log "cpu boot $bo: rep $rep $c (QEMU $v)"
        for tries in 1 2 3; do
            if boot "$v" "$WORK/cpu/boot$bo-rep$rep-$c.console" "$res" 400 "$plan" \
                -object iothread,id=io0,"${CPROPS[$c]}" \
                -blockdev driver=null-aio,node-name=n20,size=1073741824,latency-ns=20000 \
                -device virtio-blk-pci,drive=n20,iothread=io0,serial=n20 \
                -blockdev driver=null-aio,node-name=n100,size=1073741824,latency-ns=100000 \
                -device virtio-blk-pci,drive=n100,iothread=io0,serial=n100 \
                -blockdev driver=null-aio,node-name=n500,size=1073741824,latency-ns=500000 \
                -device virtio-blk-pci,drive=n500,iothread=io0,serial=n500; then
                break
            fi
            log "boot $bo failed (try $tries)"
            [ "$tries" = 3 ] && exit 1
        done
        meta=$(printf '{"rep":%d,"boot_order":%d,"qemu_version":"%s","policy":"%s","config":"%s","iothread":"%s","disks":{"n20":20000,"n100":100000,"n500":500000}}' \
            "$rep" "$bo" "$(cat "$WORK/version-$v.txt")" "${CP[$c]}" "$c" "${CPROPS[$c]}")
        H cpu_post "$res" "$cdir" "$meta"
    done < <(H cpu_order "$REPS" "$SEED" weighted-w2 weighted-w3 legacy nopoll)
}

cmd_summarize() {
    write_helper
    H summarize "$OUT/cpu/runs.csv" "$OUT/README.md"
}

case ${1:-} in
    setup) cmd_setup ;;
    guest) mkdir -p "$WORK"; write_helper; build_guest ;;
    traces) shift; cmd_traces "$@" ;;
    trim) cmd_trim ;;
    cpu) cmd_cpu ;;
    summarize) cmd_summarize ;;
    all) cmd_setup; cmd_traces; cmd_cpu; cmd_summarize ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
