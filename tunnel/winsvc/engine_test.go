package winsvc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

func newTestEngine(t *testing.T, scm *fakeSCM, marshal func(*conf.Config) []byte) *Engine {
	t.Helper()
	if marshal == nil {
		marshal = func(c *conf.Config) []byte { return []byte("[Interface]\n# " + c.Name + "\n") }
	}
	e, err := NewEngine(EngineOptions{
		Priv:    scm,
		Running: scm.Installed,
		Marshal: marshal,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEngineUpDown(t *testing.T) {
	scm := newFakeSCM()
	e := newTestEngine(t, scm, nil)
	for _, name := range []string{"office", "home"} {
		ifname, err := e.Up(&conf.Config{Name: name})
		if err != nil || ifname != name {
			t.Fatalf("Up(%s) = %q, %v; want %q", name, ifname, err, name)
		}
	}
	if diff := cmp.Diff([]string{"home", "office"}, e.Running()); diff != "" {
		t.Errorf("Running (-want +got):\n%s", diff)
	}
	if string(scm.installed["office"]) != "[Interface]\n# office\n" {
		t.Errorf("service got config %q", scm.installed["office"])
	}
	if err := e.Down("office"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"home"}, e.Running()); diff != "" {
		t.Errorf("Running after Down (-want +got):\n%s", diff)
	}
	calls := len(scm.calls)
	if err := e.Down("never-up"); !errors.Is(err, ErrNotUp) {
		t.Errorf("Down of a tunnel without a service = %v, want ErrNotUp", err)
	}
	if len(scm.calls) != calls {
		t.Errorf("Down of a tunnel without a service called %v (a needless UAC prompt)", scm.calls[calls:])
	}
	scm.installed["other"] = nil // a service this Engine did not bring up
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"other"}, e.Running()); diff != "" {
		t.Errorf("Close must take down the tunnels it brought up, and only those (-want +got):\n%s", diff)
	}
	calls = len(scm.calls)
	if err := e.Close(); err != nil || len(scm.calls) != calls {
		t.Errorf("second Close = %v, calls %v; want nil and none", err, scm.calls[calls:])
	}
}

// batchSCM is a fakeSCM that removes several tunnels in one call.
type batchSCM struct {
	*fakeSCM
	batches [][]string
}

func (b *batchSCM) RemoveAll(names []string) error {
	b.batches = append(b.batches, names)
	for _, name := range names {
		if err := b.Remove(name); err != nil {
			return err
		}
	}
	return nil
}

func TestEngineCloseBatch(t *testing.T) {
	scm := &batchSCM{fakeSCM: newFakeSCM()}
	e, err := NewEngine(EngineOptions{
		Priv:    scm,
		Running: scm.Installed,
		Marshal: func(c *conf.Config) []byte { return []byte(c.Name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"office", "home", "lab"} {
		if _, err := e.Up(&conf.Config{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Down("lab"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"home", "office"}}, scm.batches); diff != "" {
		t.Errorf("Close batches (-want +got):\n%s", diff)
	}
	if got := e.Running(); len(got) != 0 {
		t.Errorf("Running after Close = %v, want none", got)
	}
}

func TestEngineCloseFailure(t *testing.T) {
	scm := newFakeSCM()
	e := newTestEngine(t, scm, nil)
	for _, name := range []string{"broken", "home"} {
		scm.failOn = ""
		if _, err := e.Up(&conf.Config{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	scm.failOn = "broken"
	if err := e.Close(); err == nil || !strings.Contains(err.Error(), `take tunnel "broken" down`) {
		t.Errorf("Close = %v, want the failure naming broken", err)
	}
	if diff := cmp.Diff([]string{"broken"}, e.Running()); diff != "" {
		t.Errorf("Close must go on past a failure (-want +got):\n%s", diff)
	}
}

func TestEngineErrors(t *testing.T) {
	scm := newFakeSCM()
	scm.failOn = "broken"
	e := newTestEngine(t, scm, nil)
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"nil config", func() error { _, err := e.Up(nil); return err }, "no config"},
		{"bad name", func() error { _, err := e.Up(&conf.Config{Name: "a b"}); return err }, "tunnel name"},
		{"reserved", func() error { _, err := e.Up(&conf.Config{Name: "NUL"}); return err }, "reserved"},
		{"service fails", func() error { _, err := e.Up(&conf.Config{Name: "broken"}); return err }, `bring tunnel "broken" up`},
		{"down bad name", func() error { return e.Down("") }, "tunnel name"},
		{"down fails", func() error { scm.installed["broken"] = nil; return e.Down("broken") }, `take tunnel "broken" down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	delete(scm.installed, "broken")
	if len(e.Running()) != 0 {
		t.Errorf("Running = %v after failures, want none", e.Running())
	}
	empty := newTestEngine(t, newFakeSCM(), func(*conf.Config) []byte { return nil })
	if _, err := empty.Up(&conf.Config{Name: "x"}); !errors.Is(err, ErrEmptyConfig) {
		t.Errorf("Up with empty rendering = %v, want ErrEmptyConfig", err)
	}
	if _, err := NewEngine(EngineOptions{}); err == nil {
		t.Error("NewEngine without Priv succeeded")
	}
}

func TestEngineRunningError(t *testing.T) {
	var logged []string
	e, err := NewEngine(EngineOptions{
		Priv:    newFakeSCM(),
		Running: func() ([]string, error) { return nil, errors.New("access denied") },
		Marshal: func(*conf.Config) []byte { return nil },
		Logf:    func(f string, a ...any) { logged = append(logged, f) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Running(); got != nil {
		t.Errorf("Running = %v, want nil", got)
	}
	if len(logged) != 1 {
		t.Errorf("logged %v, want the listing error once", logged)
	}
}
