package ui

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/diagnose"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time { x := t0.Add(-d); return &x }

func TestBuildTray(t *testing.T) {
	connected := control.TunnelStatus{Name: "Office", Up: true, Peers: []control.PeerStatus{{State: "connected", LastHandshake: ago(4 * time.Second)}}}
	connecting := control.TunnelStatus{Name: "Home", Up: true, Peers: []control.PeerStatus{{State: "connecting"}}}
	stale := control.TunnelStatus{Name: "Lab", Up: true, Peers: []control.PeerStatus{{State: "stale", LastHandshake: ago(5 * time.Minute)}}}
	off := control.TunnelStatus{Name: "Spare"}
	failed := control.TunnelStatus{Name: "Broken", Error: "port 51820 in use"}
	warned := connected
	warned.Name = "Shop"
	warned.Warnings = []control.Warning{{Code: "port-shared", Message: "x"}}
	addressChanged := diagnosed("Office", "bob", "own-address-changed", ago(4*time.Minute))
	addressChanged.Warnings = []control.Warning{{Code: "public-address-changed", Peer: "bob", Update: "WGP1U-xyz", Message: "x"}}
	tests := []struct {
		name    string
		report  *control.Report
		overall Overall
		items   []TrayItem
	}{
		{"no report", nil, OverallProblem, nil},
		{"nothing", &control.Report{}, OverallOff, nil},
		{"all off", &control.Report{Tunnels: []control.TunnelStatus{off}}, OverallOff,
			[]TrayItem{{Tunnel: "Spare", Label: "Spare: off", Checked: false}}},
		{"all connected", &control.Report{Tunnels: []control.TunnelStatus{connected, off}}, OverallConnected,
			[]TrayItem{{Tunnel: "Office", Label: "Office: connected, 4 s ago", Checked: true}, {Tunnel: "Spare", Label: "Spare: off", Checked: false}}},
		{"connecting", &control.Report{Tunnels: []control.TunnelStatus{connected, connecting}}, OverallConnecting,
			[]TrayItem{{Tunnel: "Office", Label: "Office: connected, 4 s ago", Checked: true}, {Tunnel: "Home", Label: "Home: connecting…", Checked: true}}},
		{"stale", &control.Report{Tunnels: []control.TunnelStatus{connecting, stale}}, OverallProblem,
			[]TrayItem{{Tunnel: "Home", Label: "Home: connecting…", Checked: true}, {Tunnel: "Lab", Label: "Lab: no contact since 5 min ago", Checked: true}}},
		{"failed up", &control.Report{Tunnels: []control.TunnelStatus{failed}}, OverallProblem,
			[]TrayItem{{Tunnel: "Broken", Label: "Broken: failed to connect", Checked: false}}},
		{"warning", &control.Report{Tunnels: []control.TunnelStatus{warned}}, OverallProblem,
			[]TrayItem{{Tunnel: "Shop", Label: "Shop: connected, 4 s ago", Checked: true}}},
		{"starting", &control.Report{Tunnels: []control.TunnelStatus{{Name: "Home", Starting: true, Peers: []control.PeerStatus{{State: "connecting"}}}}}, OverallConnecting,
			[]TrayItem{{Tunnel: "Home", Label: "Home: starting…", Checked: true}}},
		{"no peer yet", &control.Report{Tunnels: []control.TunnelStatus{{Name: "New", Up: true}}}, OverallConnecting,
			[]TrayItem{{Tunnel: "New", Label: "New: waiting for the other computer", Checked: true}}},
		// Diagnoses: a few words each; no answer yet and the stuck-router
		// recovery are waiting, the others a problem. An address update
		// to send gets its own item.
		{"never connected", &control.Report{Tunnels: []control.TunnelStatus{diagnosed("Home", "Lab PC", "never-connected", nil)}}, OverallConnecting,
			[]TrayItem{{Tunnel: "Home", Label: "Home: no answer from Lab PC yet", Checked: true}}},
		{"recovering", &control.Report{Tunnels: []control.TunnelStatus{diagnosed("Home", "Lab PC", "recovering-stuck-mapping", nil)}}, OverallConnecting,
			[]TrayItem{{Tunnel: "Home", Label: "Home: no answer from Lab PC yet; trying again in a moment", Checked: true}}},
		{"peer silent", &control.Report{Tunnels: []control.TunnelStatus{diagnosed("Lab", "", "peer-silent", ago(20*time.Minute))}}, OverallProblem,
			[]TrayItem{{Tunnel: "Lab", Label: "Lab: no contact with the other computer since 20 min ago", Checked: true}}},
		{"udp blocked", &control.Report{Tunnels: []control.TunnelStatus{diagnosed("Lab", "bob", "udp-blocked", nil)}}, OverallProblem,
			[]TrayItem{{Tunnel: "Lab", Label: "Lab: this network blocks the connection", Checked: true}}},
		{"address changed", &control.Report{Tunnels: []control.TunnelStatus{addressChanged}}, OverallProblem,
			[]TrayItem{
				{Tunnel: "Office", Label: "Office: your internet address changed; send bob the update", Checked: true},
				{Tunnel: "Office", Label: "Send bob your new internet address…", Peer: "bob", Update: "WGP1U-xyz"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := BuildTray(tt.report, t0)
			if m.Overall != tt.overall {
				t.Errorf("Overall = %v, want %v", m.Overall, tt.overall)
			}
			if diff := cmp.Diff(tt.items, m.Items); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	rep := func(up bool, state control.State, errText string) *control.Report {
		return &control.Report{Tunnels: []control.TunnelStatus{{Name: "Office", Up: up, Error: errText,
			Peers: []control.PeerStatus{{Name: "Home", PublicKey: "K", State: state}}}}}
	}
	tests := []struct {
		name      string
		prev, cur *control.Report
		want      []Notice
	}{
		{"first report", nil, rep(true, "connected", ""), nil},
		{"connected", rep(true, "connecting", ""), rep(true, "connected", ""), []Notice{{"Office connected", "Linked with Home."}}},
		{"no change", rep(true, "connected", ""), rep(true, "connected", ""), nil},
		{"stale", rep(true, "connected", ""), rep(true, "stale", ""), []Notice{{"Office: no contact", "Nothing heard from Home for a while. Is it on and online?"}}},
		{"dropped", rep(true, "connected", ""), rep(false, "down", "device vanished"), []Notice{{"Office dropped", "device vanished"}}},
		{"switched off", rep(true, "connected", ""), rep(false, "down", ""), []Notice{{"Office disconnected", "The link with Home is off."}}},
		{"connecting is quiet", rep(false, "down", ""), rep(true, "connecting", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Transitions(tt.prev, tt.cur)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// diagnosed is an up tunnel whose one peer is not connected, with a
// diagnosis of code.
func diagnosed(tunnel, peer, code string, last *time.Time) control.TunnelStatus {
	state := control.State("connecting")
	if last != nil {
		state = "stale"
	}
	return control.TunnelStatus{Name: tunnel, Up: true, Peers: []control.PeerStatus{{
		Name: peer, State: state, LastHandshake: last,
		Diagnosis: &diagnose.Diagnosis{Code: code, Message: "m", Action: "a"},
	}}}
}

func TestTrayEntries(t *testing.T) {
	office := TrayItem{Tunnel: "Office", Label: "Office: connected, 4 s ago", Checked: true}
	update := TrayItem{Tunnel: "Office", Peer: "bob", Update: "WGP1U-xyz", Label: "Send bob your new internet address…"}
	tail := []TrayEntry{
		{Kind: EntryOpen, Label: "Open WG Punch"},
		{Kind: EntryLink, Label: "Link another computer…"},
		{Kind: EntrySeparator},
		{Kind: EntryQuit, Label: "Quit"},
	}
	tests := []struct {
		name  string
		model TrayModel
		want  []TrayEntry
	}{
		{"no tunnels: no leading separator", TrayModel{}, tail},
		{"a tunnel and its update", TrayModel{Items: []TrayItem{office, update}}, append([]TrayEntry{
			{Kind: EntryTunnel, Label: office.Label, Checkable: true, Checked: true, Item: office},
			{Kind: EntryUpdate, Label: update.Label, Item: update},
			{Kind: EntrySeparator},
		}, tail...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, TrayEntries(tt.model)); diff != "" {
				t.Errorf("TrayEntries (-want +got):\n%s", diff)
			}
		})
	}
}
