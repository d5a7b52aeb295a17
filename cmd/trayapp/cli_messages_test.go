package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// TestMessages checks the wording found confusing in a walk-through of the
// README: each case names what must and must not appear.
func TestMessages(t *testing.T) {
	a, b := newSide(t), newSide(t)
	exchange(t, a, b)
	// b answers a second invite; its reply is then pasted on the wrong side.
	inv := strings.TrimSpace(a.ok("", "invite", "second", "--endpoint", "127.0.0.1:1").stdout)
	reply := strings.TrimSpace(b.ok("", "accept", "second", inv, "--endpoint", "127.0.0.1:2").stdout)
	c := newSide(t)
	c.ok("", "invite", "solo", "--endpoint", "127.0.0.1:3")
	a.ok("", "accept", "second", reply)

	tests := []struct {
		name    string
		side    *side
		args    []string
		code    int
		want    []string // all in stderr
		notWant []string // none in stderr
	}{
		{"reply pasted back on its own side", b, []string{"accept", "second", reply}, 1,
			[]string{"own public key", "made on this machine", "send it to the computer that made the invite"}, []string{"did not issue"}},
		{"reply on a machine that issued no invite", c, []string{"accept", "other", reply}, 1,
			[]string{`no such tunnel "other"`, "no tunnel here issued invite", "goes back to the computer that made the invite"}, nil},
		{"reply accepted twice", a, []string{"accept", "second", reply}, 1,
			[]string{"this reply was already accepted", "wgpunch up second"}, []string{"a tunnel with that name already exists"}},
		{"name error not doubled", a, []string{"show", "bad/name"}, 1,
			[]string{`tunnel name "bad/name" has character '/'`}, []string{`tunnel name "bad/name": tunnel name`}},
		{"unknown flag", a, []string{"invite", "x", "--bogus"}, 2,
			[]string{"unknown flag --bogus", "Usage: wgpunch invite NAME", `Run "wgpunch help invite" for details.`}, []string{"flag provided but not defined", "--qr FILE.png        also"}},
		{"bad port flag", a, []string{"invite", "x", "--port", "99999"}, 2,
			[]string{`--port: port must be a number from 1 to 65535, not "99999"`}, []string{"invalid value", "for flag -port"}},
		{"flag without value", a, []string{"invite", "x", "--port"}, 2,
			[]string{"flag --port needs a value"}, nil},
		{"missing argument named", a, []string{"rename", "home"}, 2,
			[]string{"missing argument: NEW"}, nil},
		{"unknown global flag", a, []string{"--bogus", "list"}, 2,
			[]string{"unknown flag --bogus", "Commands: invite, accept,"}, []string{"Global flags:"}},
		{"unknown command", a, []string{"frob"}, 2,
			[]string{`unknown command "frob"`, "Commands: invite, accept,"}, []string{"Global flags:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beforeA, beforeB, beforeC := a.files(), b.files(), c.files()
			r := tt.side.run("", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr has %q:\n%s", w, r.stderr)
				}
			}
			if !equalFiles(beforeA, a.files()) || !equalFiles(beforeB, b.files()) || !equalFiles(beforeC, c.files()) {
				t.Error("a failed command changed saved files")
			}
		})
	}
}

func equalFiles(x, y map[string]string) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if y[k] != v {
			return false
		}
	}
	return true
}

// TestAcceptReplyNotesOnce: the invitee is told once to send the reply
// back, with the real tunnel name in the "up" command.
func TestAcceptReplyNotesOnce(t *testing.T) {
	a, b := newSide(t), newSide(t)
	inv := strings.TrimSpace(a.ok("", "invite", "office", "--endpoint", "127.0.0.1:1").stdout)
	r := b.ok("", "accept", "office", inv, "--endpoint", "127.0.0.1:2")
	if n := strings.Count(strings.ToLower(r.stderr), "send the reply"); n != 1 {
		t.Errorf("%d lines say to send the reply, want 1:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "wgpunch up office") || strings.Contains(r.stderr, "wgpunch up TUNNEL") {
		t.Errorf("stderr does not name the tunnel to bring up:\n%s", r.stderr)
	}
}

// TestConfirmations: set-port to the same port says nothing changed;
// rename says what it did.
func TestConfirmations(t *testing.T) {
	a := newSide(t)
	a.ok("", "invite", "office", "--endpoint", "127.0.0.1:1", "--port", "41999")
	if r := a.ok("", "set-port", "office", "41999"); !strings.Contains(r.stderr, "already uses UDP port 41999; nothing changed") {
		t.Errorf("set-port same port: %q", r.stderr)
	}
	if r := a.ok("", "rename", "office", "work"); !strings.Contains(r.stderr, "Tunnel office renamed to work.") {
		t.Errorf("rename: %q", r.stderr)
	}
}

// TestRemoveFromDevNull: /dev/null is not a terminal to ask on, so remove
// wants --yes instead of reading an empty answer.
func TestRemoveFromDevNull(t *testing.T) {
	a := newSide(t)
	a.ok("", "invite", "office", "--endpoint", "127.0.0.1:1")
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd := exec.Command(wgpunchBin, "--state-dir", a.dir, "--socket", a.sock, "remove", "office")
	cmd.Stdin = null
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "add --yes to confirm") {
		t.Errorf("remove </dev/null: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(a.dir, "office.conf")); err != nil {
		t.Errorf("tunnel gone: %v", err)
	}
}

// TestStatusBrokenTunnel: a tunnel whose file cannot be read shows no
// made-up "UDP port 0", but the error.
func TestStatusBrokenTunnel(t *testing.T) {
	var b strings.Builder
	renderStatus(&b, &control.Report{Tunnels: []control.TunnelStatus{{Name: "office", Error: "the config file is broken"}}}, time.Now())
	got := b.String()
	if strings.Contains(got, "UDP port 0") || !strings.Contains(got, "tunnel office: down, address -, UDP port -") || !strings.Contains(got, "error: the config file is broken") {
		t.Errorf("status:\n%s", got)
	}
}

// TestStatusDiagnosis: status prints, under the peers, why each one that
// is not connected is not and what to do, once per text.
func TestStatusDiagnosis(t *testing.T) {
	down := &control.Diagnosis{Code: "tunnel-down", Message: "This link is switched off on this computer.", Action: "Turn it on: wgpunch up office."}
	silent := &control.Diagnosis{Code: "peer-silent", Message: "Carol was connected, but nothing has come from it for 8 minutes.", Action: "Ask carol to open WG Punch."}
	var b strings.Builder
	renderStatus(&b, &control.Report{Tunnels: []control.TunnelStatus{
		{Name: "office", Peers: []control.PeerStatus{{Name: "carol", State: "down", Diagnosis: down}, {Name: "dave", State: "down", Diagnosis: down}}},
		{Name: "home", Up: true, Peers: []control.PeerStatus{{Name: "carol", State: "stale", Diagnosis: silent}, {Name: "erin", State: "connected"}}},
	}}, time.Now())
	got := b.String()
	if strings.Count(got, down.Message) != 1 || !strings.Contains(got, "    what to do: "+down.Action) {
		t.Errorf("switched-off link not said once with its action:\n%s", got)
	}
	if !strings.Contains(got, "  "+silent.Message+"\n    what to do: "+silent.Action+"\n") {
		t.Errorf("silent peer's diagnosis missing:\n%s", got)
	}
}

// TestEndpointPerFamily: --endpoint given twice announces both; twice for
// one family is refused in words, and nothing is saved.
func TestEndpointPerFamily(t *testing.T) {
	a := newSide(t)
	r := a.ok("", "invite", "dual", "--endpoint", "198.51.100.1:51820", "--endpoint", "[2001:db8::7]:51820")
	if !strings.Contains(r.stderr, "announced as 198.51.100.1:51820 and [2001:db8::7]:51820") {
		t.Errorf("invite notes %q, want both endpoints announced", r.stderr)
	}
	r = a.run("", "invite", "twice", "--endpoint", "198.51.100.1:51820", "--endpoint", "198.51.100.2:51820")
	if r.code == 0 || !strings.Contains(r.stderr, "one per address family") {
		t.Errorf("two IPv4 endpoints: exit %d, stderr %q; want a refusal naming the rule", r.code, r.stderr)
	}
	if r := a.run("", "show", "twice"); r.code == 0 {
		t.Errorf("tunnel twice was saved after a refused invite")
	}
}

// TestStatusPath: each peer's line says how the link reaches it.
func TestStatusPath(t *testing.T) {
	var b strings.Builder
	renderStatus(&b, &control.Report{Tunnels: []control.TunnelStatus{{Name: "home", Up: true, Peers: []control.PeerStatus{
		{Name: "carol", State: "connected", Path: "ipv6", Endpoint: "[2001:db8::5]:51820"},
		{Name: "dave", State: "connecting"},
	}}}}, time.Now())
	got := b.String()
	if !strings.Contains(got, "PATH") || !regexp.MustCompile(`carol +connected +direct over IPv6 `).MatchString(got) || !regexp.MustCompile(`dave +connecting +- `).MatchString(got) {
		t.Errorf("status does not say each peer's path:\n%s", got)
	}
}

// TestStatusAlias: status says how an aliased LAN is reached, with an
// example address and the commands for other computers of the office.
func TestStatusAlias(t *testing.T) {
	var b strings.Builder
	renderStatus(&b, &control.Report{Tunnels: []control.TunnelStatus{{Name: "officeb", LANAddress: "192.168.1.10", Peers: []control.PeerStatus{{
		Name: "Office B", State: "down",
		LANs:    []control.LANStatus{{Prefix: "192.168.1.0/24", ReachAs: "10.201.1.0/24"}, {Prefix: "192.168.9.0/24", ReachAs: "192.168.9.0/24"}},
		ServeAs: []control.LANStatus{{Prefix: "192.168.1.0/24", ReachAs: "10.57.1.0/24"}},
	}}}}}, time.Now())
	got := b.String()
	for _, want := range []string{
		"  Office B's 192.168.1.0/24 is reached here as 10.201.1.0/24: a device at 192.168.1.50 there is 10.201.1.50 here.\n",
		"      Linux: sudo ip route add 10.201.1.0/24 via 192.168.1.10\n",
		"      Windows: route -p add 10.201.1.0 mask 255.255.255.0 192.168.1.10\n",
		"      on your router: a static route to 10.201.1.0/24 via 192.168.1.10\n",
		"  Office B reaches your 192.168.1.0/24 as 10.57.1.0/24 (your 192.168.1.50 is 10.57.1.50 there).\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "192.168.9.0/24 is reached") {
		t.Errorf("a LAN without alias is explained as one:\n%s", got)
	}
}
