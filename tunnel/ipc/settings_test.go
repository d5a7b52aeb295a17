package ipc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

func TestSettingsOverSocket(t *testing.T) {
	e := NewEnv(t, false)
	if err := e.St.SaveSettings(store.Settings{Group: "wheel"}); err != nil {
		t.Fatal(err)
	}
	cl, err := Dial(serve(t, e, t.TempDir(), ServerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.SetSettings(ctx, Settings{STUNServers: []string{"[2001:db8::1]"}}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{STUNServers: []string{"[2001:db8::1]:3478"}, DefaultSTUNServers: natcheck.DefaultServers}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settings over the socket (-want +got):\n%s", diff)
	}
	err = cl.SetSettings(ctx, Settings{STUNServers: []string{"no port:"}})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), `"no port:"`) {
		t.Errorf("bad server over the socket: %v, want ErrInvalidInput naming it", err)
	}
	if st, _ := e.St.LoadSettings(); st.Group != "wheel" || len(st.STUNServers) != 1 {
		t.Errorf("settings.json after the socket calls: %+v", st)
	}
}
