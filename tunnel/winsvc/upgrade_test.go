package winsvc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeControl is a ServiceControl over tunnels that run or not.
type fakeControl struct {
	running map[string]bool
	failOn  string
	calls   []string
}

func (f *fakeControl) Running() ([]string, error) {
	var names []string
	for n, r := range f.running {
		if r {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (f *fakeControl) Stop(name string) error {
	f.calls = append(f.calls, "stop "+name)
	if name == f.failOn {
		return errors.New("did not stop within 20 s")
	}
	f.running[name] = false
	return nil
}

func (f *fakeControl) Start(name string) error {
	f.calls = append(f.calls, "start "+name)
	f.running[name] = true
	return nil
}

// The upgrade stops the running tunnels before the files are replaced
// and starts those, and only those, again afterwards.
func TestUpgradeStopsAndRestarts(t *testing.T) {
	record := filepath.Join(t.TempDir(), "restart-after-upgrade")
	sc := &fakeControl{running: map[string]bool{"office": true, "home": true, "spare": false}}
	if err := StopForUpgrade(sc, record); err != nil {
		t.Fatal(err)
	}
	if names, _ := sc.Running(); len(names) != 0 {
		t.Fatalf("still running while the files are replaced: %v", names)
	}
	sc.calls = nil
	if err := RestartAfterUpgrade(sc, record); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"start home", "start office"}, sc.calls); diff != "" {
		t.Errorf("after the upgrade (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(record); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record is still there: %v", err)
	}
	// Nothing recorded (no tunnel was running, or a fresh install).
	sc.calls = nil
	if err := RestartAfterUpgrade(sc, record); err != nil || len(sc.calls) != 0 {
		t.Errorf("restart without a record: %v, %v", err, sc.calls)
	}
}

// A service that does not stop is reported, and still started again.
func TestUpgradeStopFailure(t *testing.T) {
	record := filepath.Join(t.TempDir(), "restart-after-upgrade")
	sc := &fakeControl{running: map[string]bool{"office": true, "home": true}, failOn: "home"}
	if err := StopForUpgrade(sc, record); err == nil {
		t.Fatal("a service that did not stop was not reported")
	}
	sc.calls = nil
	if err := RestartAfterUpgrade(sc, record); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"start home", "start office"}, sc.calls); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A tampered record cannot name anything but a tunnel.
func TestUpgradeRecordNames(t *testing.T) {
	record := filepath.Join(t.TempDir(), "restart-after-upgrade")
	os.WriteFile(record, []byte("office\n../evil\n"), 0o600)
	sc := &fakeControl{running: map[string]bool{}}
	if err := RestartAfterUpgrade(sc, record); err == nil {
		t.Error("an invalid name in the record was not reported")
	}
	if diff := cmp.Diff([]string{"start office"}, sc.calls); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseUpgradeFlags(t *testing.T) {
	for _, f := range []string{FlagStopServices, FlagStartServices} {
		if cmd, ok, err := ParseCommand([]string{f}); !ok || err != nil || cmd.Flag != f {
			t.Errorf("ParseCommand(%s) = %+v, %v, %v", f, cmd, ok, err)
		}
		if _, ok, err := ParseCommand([]string{f, "x"}); !ok || err == nil {
			t.Errorf("ParseCommand(%s x) = %v, %v; want a usage error", f, ok, err)
		}
	}
}
