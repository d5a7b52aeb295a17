package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DropStartupMappings drops this process's mappings of the pages of
// read-only file mappings (program text and read-only data of the binary
// and its libraries) that are resident now. Only private read-only mappings with no
// anonymous (copied-on-write) page are dropped: for those a later access
// reads the same bytes from the page cache again, so nothing changes but
// the count of mapped pages. Writable mappings, and read-only ones the
// dynamic loader wrote to (RELRO), are left alone.
func DropStartupMappings() (Stats, error) {
	var st Stats
	maps, err := readSmaps("/proc/self/smaps")
	if err != nil {
		return st, err
	}
	for _, m := range maps {
		if !m.droppable() {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); e != 0 {
			return st, fmt.Errorf("memtrim: drop the mapping of %s: %w", m.path, e)
		}
		st.Mappings++
		st.Bytes += m.rssKiB * 1024
	}
	return st, nil
}

// mapping is one entry of /proc/PID/smaps.
type mapping struct {
	start, end      uintptr
	perms, path     string
	inode           uint64
	rssKiB, anonKiB int64
}

// droppable: a private read-only mapping of a file, resident, and with no
// page of its own.
func (m mapping) droppable() bool {
	return (m.perms == "r-xp" || m.perms == "r--p") && m.inode != 0 &&
		strings.HasPrefix(m.path, "/") && m.rssKiB > 0 && m.anonKiB == 0
}

// readSmaps parses the mappings and their Rss and Anonymous fields.
func readSmaps(path string) ([]mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("memtrim: %w", err)
	}
	return parseSmaps(b)
}

func parseSmaps(b []byte) ([]mapping, error) {
	var maps []mapping
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if k, ok := strings.CutSuffix(f[0], ":"); ok {
			if len(maps) == 0 || len(f) < 2 {
				continue
			}
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "Rss":
				maps[len(maps)-1].rssKiB = v
			case "Anonymous":
				maps[len(maps)-1].anonKiB = v
			}
			continue
		}
		// start-end perms offset dev inode [path]
		if len(f) < 5 {
			return nil, fmt.Errorf("memtrim: unexpected smaps line %q", line)
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		inode, err3 := strconv.ParseUint(f[4], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("memtrim: unexpected smaps line %q", line)
		}
		m := mapping{start: uintptr(start), end: uintptr(end), perms: f[1], inode: inode}
		if len(f) > 5 {
			m.path = strings.Join(f[5:], " ")
		}
		maps = append(maps, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("memtrim: %w", err)
	}
	return maps, nil
}
