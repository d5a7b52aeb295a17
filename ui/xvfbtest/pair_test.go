package xvfbtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// side is one WG Punch machine: a namespace, a daemon, a state dir.
type side struct {
	l        *lab
	ns       string
	stateDir string
	socket   string
	addr     string // its address on the lab's veth link
	host     string // its host name (a UTS namespace of its own)
	lan      bool   // announce ports on the LAN (mDNS)
}

// pair gives the lab's namespace a second machine B on a veth link
// (10.99.0.1 <-> 10.99.0.2) and starts a daemon on each side. A's daemon
// serves the lab's state dir and socket, so the GUI talks to it.
func (l *lab) pair(t testing.TB) (a, b *side) {
	return l.pairLAN(t, false)
}

// pairLAN is pair; with lan the daemons announce their ports by mDNS on
// the link (each with its own host name) so port-shared warnings appear.
func (l *lab) pairLAN(t testing.TB, lan bool) (a, b *side) {
	t.Helper()
	bns := l.ns + "b"
	testutil.NetNS(t, bns)
	testutil.Veth(t,
		testutil.VethEnd{NS: l.ns, Dev: "h6va", Addrs: []string{"10.99.0.1/24"}},
		testutil.VethEnd{NS: bns, Dev: "h6vb", Addrs: []string{"10.99.0.2/24"}})

	a = &side{l: l, ns: l.ns, stateDir: l.stateDir, socket: l.socket, addr: "10.99.0.1"}
	b = &side{l: l, ns: bns, stateDir: filepath.Join(l.dir, "state-b"), socket: filepath.Join(l.dir, "b.sock"), addr: "10.99.0.2"}
	os.MkdirAll(b.stateDir, 0o700)
	a.host, b.host = "machine-a", "machine-b"
	for _, s := range []*side{a, b} {
		s.lan = lan
		s.start(t)
	}
	return a, b
}

func (s *side) start(t testing.TB) {
	t.Helper()
	l := s.l
	// "ip netns exec" gives the daemon a mount namespace of its own; a tmpfs
	// on /run/wireguard there keeps wireguard-go's control sockets apart
	// from other tests' tunnels of the same name.
	args := []string{"--state-dir", s.stateDir, "--socket", s.socket, "daemon"}
	if !s.lan {
		args = append(args, "--no-lan")
	}
	cmd := l.nsCmdIn(s.ns, "unshare", append([]string{"--uts", "sh", "-c",
		`hostname ` + s.host + ` && mkdir -p /run/wireguard && mount -t tmpfs wgpunch-test /run/wireguard && exec "$0" "$@"`,
		l.bin}, args...)...)
	l.startCmd(t, "daemon-"+s.ns, cmd)
	l.waitFor(t, "daemon socket "+s.socket, 20*time.Second, func() bool {
		_, err := os.Stat(s.socket)
		return err == nil
	})
}

func (s *side) cli(t testing.TB, args ...string) string {
	t.Helper()
	full := append([]string{"--state-dir", s.stateDir, "--socket", s.socket}, args...)
	out, err := s.l.nsCmdIn(s.ns, s.l.bin, full...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(interface{ Stderr() []byte }); ok {
			msg = string(ee.Stderr())
		}
		t.Fatalf("[%s] wgpunch %s: %v\n%s%s", s.ns, strings.Join(args, " "), err, out, msg)
	}
	return strings.TrimSpace(string(out))
}

// status is the daemon's report.
func (s *side) status(t testing.TB) *control.Report {
	t.Helper()
	var r control.Report
	if err := json.Unmarshal([]byte(s.cli(t, "status", "--json")), &r); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	return &r
}

func (s *side) tunnel(t testing.TB, name string) control.TunnelStatus {
	for _, x := range s.status(t).Tunnels {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no tunnel %q in %s's status", name, s.ns)
	return control.TunnelStatus{}
}

// link makes tunnel name between a (inviter) and b on port, and brings
// it up on b; up on a too when upA. B calls its end name+"-b".
func link(t testing.TB, a, b *side, name string, port int, upA bool) {
	t.Helper()
	inv := a.cli(t, "invite", name, "--port", fmt.Sprint(port), "--endpoint", fmt.Sprintf("%s:%d", a.addr, port), "--name", "Office")
	reply := b.cli(t, "accept", name+"-b", inv, "--port", fmt.Sprint(port), "--endpoint", fmt.Sprintf("%s:%d", b.addr, port), "--name", "Home")
	a.cli(t, "accept", name, reply)
	b.cli(t, "up", name+"-b")
	if upA {
		a.cli(t, "up", name)
	}
}
