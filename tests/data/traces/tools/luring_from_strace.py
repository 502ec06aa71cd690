# Turns `strace -f -ttt -s 300 -e trace=write -o strace.out qemu-storage-daemon --trace 'luring_*' ...`
# into QEMU log-backend lines "TID@SECONDS.MICROSECONDS:event args": the
# storage daemon has no -msg timestamp=on, so the time of each event's write(2)
# to stderr, as strace saw it, stands in for the backend's gettimeofday().
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r'^(\d+) (\d+)\.(\d+) write\(2, "(luring_[^"]*)\\n", \d+\)', line)
    if m:
        print('%s@%s.%s:%s' % (m.group(1), m.group(2), m.group(3), m.group(4)))
