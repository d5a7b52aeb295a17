package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lockFile is the advisory lock of a state directory. Its content says who
// holds it ({"pid":1234,"role":"the daemon"}); the lock itself is flock
// (Unix) or LockFileEx (Windows) on the open file, so it goes away with
// the process that held it, however that process ended.
const lockFile = ".lock"

// DefaultLockWait is how long Lock waits for another writer by default.
const DefaultLockWait = 5 * time.Second

// lockPoll is how often a waiting Lock tries again.
const lockPoll = 25 * time.Millisecond

// ErrLocked: another writer holds the state directory's lock. Lock returns
// a *LockedError, which matches it with errors.Is.
var ErrLocked = errors.New("state directory is locked by another WG Punch")

// LockedError says who holds the lock of a state directory.
type LockedError struct {
	Dir  string
	PID  int    // 0: unknown
	Role string // e.g. "the daemon", "the command line"; "": unknown
}

func (e *LockedError) Error() string {
	var who []string
	if e.Role != "" {
		who = append(who, e.Role)
	}
	if e.PID > 0 {
		who = append(who, fmt.Sprintf("pid %d", e.PID))
	}
	holder := "another WG Punch program"
	if len(who) > 0 {
		holder = "another WG Punch (" + strings.Join(who, ", ") + ")"
	}
	return fmt.Sprintf("%s is changing tunnels in %s; try again in a moment", holder, e.Dir)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

type lockOwner struct {
	PID  int    `json:"pid"`
	Role string `json:"role"`
}

// SetRole names this process in the lock file, for the message another
// writer gets while this one holds the lock: "the daemon", "the command
// line", "the tray app". Call it once after Open.
func (s *Store) SetRole(role string) {
	s.mu.Lock()
	s.role = role
	s.mu.Unlock()
}

// Lock takes the state directory's advisory lock, for one read-modify-write
// (load, change, Save/Create/Remove). Every process that changes the
// directory (the daemon, the command line and the tray app when they work
// on it directly) does its read-modify-writes under it, so none overwrites
// another's change.
//
// If another process (or another Lock in this one: it is not reentrant)
// holds it, Lock waits up to DefaultLockWait, or until ctx ends if that is
// sooner, then fails with a *LockedError naming the holder. unlock releases
// it; call it exactly once.
func (s *Store) Lock(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(s.dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("lock state directory %q: %w", s.dir, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultLockWait)
	defer cancel()
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock state directory %q: %w", s.dir, err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			e := &LockedError{Dir: s.dir}
			if o, ok := readOwner(f); ok {
				e.PID, e.Role = o.PID, o.Role
			}
			f.Close()
			return nil, e
		case <-tick.C:
		}
	}
	s.mu.Lock()
	role := s.role
	s.mu.Unlock()
	if data, err := json.Marshal(lockOwner{PID: os.Getpid(), Role: role}); err == nil {
		// Who holds it is only for messages: a failed write is no reason
		// to refuse the lock.
		if f.Truncate(0) == nil {
			f.WriteAt(append(data, '\n'), 0)
		}
	}
	return func() {
		f.Truncate(0)
		unlockFile(f)
		f.Close()
	}, nil
}

// Update runs fn under Lock: the convenient form of one read-modify-write.
func (s *Store) Update(ctx context.Context, fn func() error) error {
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func readOwner(f *os.File) (lockOwner, bool) {
	var o lockOwner
	b := make([]byte, 512)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return o, false
	}
	if json.Unmarshal([]byte(strings.TrimSpace(string(b[:n]))), &o) != nil {
		return lockOwner{}, false
	}
	if len(o.Role) > 64 {
		o.Role = o.Role[:64]
	}
	return o, true
}
