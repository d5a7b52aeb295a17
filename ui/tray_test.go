package ui

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/control"
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
	tests := []struct {
		name    string
		report  *control.Report
		overall Overall
		items   []TrayItem
	}{
		{"no report", nil, OverallProblem, nil},
		{"nothing", &control.Report{}, OverallOff, nil},
		{"all off", &control.Report{Tunnels: []control.TunnelStatus{off}}, OverallOff,
			[]TrayItem{{"Spare", "Spare: off", false}}},
		{"all connected", &control.Report{Tunnels: []control.TunnelStatus{connected, off}}, OverallConnected,
			[]TrayItem{{"Office", "Office: connected, 4 s ago", true}, {"Spare", "Spare: off", false}}},
		{"connecting", &control.Report{Tunnels: []control.TunnelStatus{connected, connecting}}, OverallConnecting,
			[]TrayItem{{"Office", "Office: connected, 4 s ago", true}, {"Home", "Home: connecting…", true}}},
		{"stale", &control.Report{Tunnels: []control.TunnelStatus{connecting, stale}}, OverallProblem,
			[]TrayItem{{"Home", "Home: connecting…", true}, {"Lab", "Lab: no contact since 5 min ago", true}}},
		{"failed up", &control.Report{Tunnels: []control.TunnelStatus{failed}}, OverallProblem,
			[]TrayItem{{"Broken", "Broken: failed to connect", false}}},
		{"warning", &control.Report{Tunnels: []control.TunnelStatus{warned}}, OverallProblem,
			[]TrayItem{{"Shop", "Shop: connected, 4 s ago", true}}},
		{"no peer yet", &control.Report{Tunnels: []control.TunnelStatus{{Name: "New", Up: true}}}, OverallConnecting,
			[]TrayItem{{"New", "New: waiting for the other computer", true}}},
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
