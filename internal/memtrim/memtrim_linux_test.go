package memtrim

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// written is changed before the drop: writable mappings must keep it.
var written = []int{1, 2, 3}

// After the drop the process runs on (code and read-only data come back
// from the page cache), writable data keeps its changes, and the
// binary's read-only mappings hold fewer resident pages than before.
func TestDropStartupMappings(t *testing.T) {
	written[1] = 42
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	before := exeRSS(t, exe)
	st, err := DropStartupMappings()
	if err != nil {
		t.Fatal(err)
	}
	after := exeRSS(t, exe)
	if st.Mappings == 0 || st.Bytes == 0 {
		t.Errorf("dropped %d mappings, %d bytes; want some", st.Mappings, st.Bytes)
	}
	if after >= before {
		t.Errorf("read-only mappings of %s: %d KiB resident before, %d KiB after; want fewer", exe, before, after)
	}
	runtime.GC()
	if got := fmt.Sprint(written); got != "[1 42 3]" {
		t.Errorf("writable data after the drop: %s, want [1 42 3]", got)
	}
	if got := strings.Repeat("ab", 3); got != "ababab" {
		t.Errorf("code after the drop: %q", got)
	}
}

// exeRSS is the resident KiB of exe's private read-only mappings.
func exeRSS(t *testing.T, exe string) int64 {
	t.Helper()
	maps, err := readSmaps("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var kib int64
	for _, m := range maps {
		if m.path == exe && (m.perms == "r-xp" || m.perms == "r--p") {
			kib += m.rssKiB
		}
	}
	return kib
}

// Only private read-only file mappings without pages of their own are
// droppable; a RELRO page the loader wrote to, heap and stacks are not.
func TestParseSmaps(t *testing.T) {
	const smaps = `00400000-00404000 r--p 00000000 fe:00 9981299                            /usr/bin/wgpunch
Size:                 16 kB
Rss:                  16 kB
Anonymous:             0 kB
00404000-00e66000 r-xp 00004000 fe:00 9981299                            /usr/bin/wgpunch
Rss:               10544 kB
Anonymous:             0 kB
0190f000-01910000 r--p 0150f000 fe:00 9981299                            /usr/bin/wgpunch
Rss:                   4 kB
Anonymous:             4 kB
01910000-020bb000 rw-p 01510000 fe:00 9981299                            /usr/bin/wgpunch
Rss:                 964 kB
Anonymous:           216 kB
c000000000-c000400000 rw-p 00000000 00:00 0 
Rss:                2048 kB
Anonymous:          2048 kB
7f0000000000-7f0000001000 r--p 00000000 fe:00 1234                       /usr/lib/my lib.so
Rss:                   0 kB
Anonymous:             0 kB
7ffd0000-7ffd2000 r-xp 00000000 00:00 0                                  [vdso]
Rss:                   8 kB
Anonymous:             0 kB
`
	maps, err := parseSmaps([]byte(smaps))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range maps {
		if m.droppable() {
			got = append(got, fmt.Sprintf("%x %s %d", m.start, m.perms, m.rssKiB))
		}
	}
	if want := "400000 r--p 16|404000 r-xp 10544"; strings.Join(got, "|") != want {
		t.Errorf("droppable: %q, want %q", strings.Join(got, "|"), want)
	}
	if maps[5].path != "/usr/lib/my lib.so" {
		t.Errorf("path with a space: %q", maps[5].path)
	}
	if _, err := parseSmaps([]byte("garbage line\n")); err == nil {
		t.Error("a line that is no mapping parsed")
	}
}
