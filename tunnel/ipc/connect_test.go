package ipc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// TestConnect: the daemon when it serves the directory meant, else a local
// Service whose Up says how to start a daemon for that directory.
func TestConnect(t *testing.T) {
	d := controltest.NewEnv(t, true)
	sock := serve(t, d, t.TempDir(), ServerOptions{})
	other := filepath.Join(t.TempDir(), "other")
	none := filepath.Join(t.TempDir(), "none.sock")
	for _, tt := range []struct {
		name   string
		opts   ConnectOptions
		daemon bool
		upErr  string // Up on the local Service: ErrNeedDaemon with this text
		note   string
	}{
		{"daemon, default directory", ConnectOptions{Socket: sock}, true, "", ""},
		{"daemon, its own directory named", ConnectOptions{Socket: sock, StateDir: d.Dir, StateDirSet: true}, true, "", ""},
		{"daemon serves another directory", ConnectOptions{Socket: sock, StateDir: other, StateDirSet: true}, false,
			fmt.Sprintf("the WG Punch daemon is not running: the daemon on %s serves the state directory %s, not %s; to bring these tunnels up run a daemon on them: sudo wgpunch --state-dir %s --socket OTHER.sock daemon", sock, d.Dir, other, other),
			fmt.Sprintf("note: the daemon on %s serves %s, not --state-dir %s; working on %s directly", sock, d.Dir, other, other)},
		{"no daemon", ConnectOptions{Socket: none, StateDir: other}, false,
			fmt.Sprintf("the WG Punch daemon is not running (socket %s); start it with: sudo systemctl start wgpunch  (or: sudo wgpunch daemon)", none), ""},
		{"no daemon, directory named", ConnectOptions{Socket: none, StateDir: other, StateDirSet: true}, false,
			fmt.Sprintf("the WG Punch daemon is not running (socket %s) for %s; start one on it with: sudo wgpunch --state-dir %s --socket %s daemon", none, other, other, none), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var notes []string
			tt.opts.Notef = func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
			ctl, err := Connect(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cl, ok := ctl.(*Client); ok {
				defer cl.Close()
			}
			if _, isClient := ctl.(*Client); isClient != tt.daemon {
				t.Fatalf("Connect gave %T, want the daemon: %v", ctl, tt.daemon)
			}
			if got := strings.Join(notes, "\n"); got != tt.note {
				t.Errorf("notes %q, want %q", got, tt.note)
			}
			if tt.daemon {
				return
			}
			err = ctl.Up(ctx, "home")
			if !errors.Is(err, control.ErrNeedDaemon) || err.Error() != tt.upErr {
				t.Errorf("Up = %v\nwant %s", err, tt.upErr)
			}
		})
	}
}
