package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// silentBound: after the peer's daemon stops, how long until the monitor
// calls it stale (no bytes for 17 s) and the diagnosis says peer-silent.
const silentBound = 40 * time.Second

// TestWGPunchDiagnosis is issue 11's "why isn't it connected?" in the lab:
// two home offices. While B's tunnel was never brought up, A's peer is
// never-connected; once both are up there is no diagnosis; with B's daemon
// stopped, A's turns to peer-silent. Each diagnosis is in plain words with
// what to do, and `status` prints them.
func TestWGPunchDiagnosis(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	a1 := in.Office("a", 1, NATHome).Host("a1")
	b1 := in.Office("b", 2, NATHome).Host("b1")
	a1.StartDaemon()
	b1.StartDaemon()
	res := Link(t, a1, b1, "office", linkOpts{Port: 51820}, linkOpts{Port: 51820})

	diag := func(h *Host) *diagnosis {
		ts := h.TunnelStatus("office")
		if len(ts.Peers) != 1 {
			t.Fatalf("%s: %d peers", h.Name, len(ts.Peers))
		}
		return ts.Peers[0].Diagnosis
	}
	if d := diag(a1); d == nil || d.Code != "tunnel-down" {
		t.Errorf("%s before up: diagnosis %+v, want tunnel-down", a1.Name, d)
	}
	a1.MustWGP("up", "office")
	if d := diag(a1); d == nil || d.Code != "never-connected" || !strings.Contains(d.Message, "No answer from") || d.Action == "" {
		t.Errorf("%s up, %s never brought up: diagnosis %+v, want never-connected in words", a1.Name, b1.Name, d)
	}
	if out := a1.MustWGP("status", "office"); !strings.Contains(out, "what to do: ") {
		t.Errorf("status does not print what to do:\n%s", out)
	}

	b1.MustWGP("up", "office")
	if _, err := a1.WaitPing(res.BAddr, connectBound); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.WaitState("office", "connected", connectBound); err != nil {
		t.Fatal(err)
	}
	if d := diag(a1); d != nil {
		t.Errorf("connected: diagnosis %+v, want none", d)
	}

	if err := b1.StopDaemon(); err != nil {
		t.Fatal(err)
	}
	took, err := waitFor(silentBound, 500*time.Millisecond, func() (bool, string) {
		d := diag(a1)
		return d != nil && d.Code == "peer-silent", fmt.Sprintf("diagnosis %+v, want peer-silent", d)
	})
	if err != nil {
		t.Fatal(err)
	}
	d := diag(a1)
	t.Logf("peer-silent %v after %s's daemon stopped: %s / %s", took.Round(time.Second), b1.Name, d.Message, d.Action)
	if !strings.Contains(d.Message, "was connected") || !strings.Contains(d.Action, "open WG Punch") {
		t.Errorf("peer-silent words: %+v", d)
	}
}
