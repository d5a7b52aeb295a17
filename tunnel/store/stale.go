package store

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTempAge is how old a temporary file must be before Open removes it.
// A write takes milliseconds; anything older was left by a crash or a power
// cut between writing and renaming, and a temporary tunnel file holds a
// private key that nothing else would ever delete.
const staleTempAge = 10 * time.Minute

// removeStaleTemps deletes temporary files (".NAME.*.tmp", as writeTemp
// makes them) older than staleTempAge. Younger ones may belong to another
// process writing right now and are left alone. Failures are ignored: a
// leftover file is private (0600 in a 0700 directory) and List skips it.
func (s *Store) removeStaleTemps(now time.Time) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".tmp") {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTempAge {
			continue
		}
		os.Remove(filepath.Join(s.dir, n))
	}
}
