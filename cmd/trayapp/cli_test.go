package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

var wgpunchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wgpunch-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // another uid runs it in the permission tests
	wgpunchBin = filepath.Join(dir, "wgpunch")
	if runtime.GOOS == "windows" {
		wgpunchBin += ".exe"
	}
	build := exec.Command("go", "build", "-tags", "nogui", "-o", wgpunchBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build wgpunch: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// side is one machine: its own state dir, no daemon.
type side struct {
	t    *testing.T
	dir  string
	sock string
}

func newSide(t *testing.T) *side {
	d := t.TempDir()
	return &side{t: t, dir: filepath.Join(d, "state"), sock: filepath.Join(d, "no-daemon.sock")}
}

type result struct {
	stdout, stderr string
	code           int
}

func (s *side) run(stdin string, args ...string) result {
	s.t.Helper()
	cmd := exec.Command(wgpunchBin, append([]string{"--state-dir", s.dir, "--socket", s.sock}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func (s *side) ok(stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("wgpunch %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (s *side) files() map[string]string {
	s.t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(s.dir)
	if err != nil && !os.IsNotExist(err) {
		s.t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			s.t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func (s *side) conf(name string) *conf.Config {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, name+".conf"))
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := conf.Parse(name, data)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// freePorts returns n UDP ports free on loopback right now.
func freePorts(t *testing.T, n int) []int {
	var out []int
	var conns []net.PacketConn
	for len(out) < n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		out = append(out, c.LocalAddr().(*net.UDPAddr).Port)
	}
	for _, c := range conns {
		c.Close()
	}
	return out
}

func safetyCode(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if c, ok := strings.CutPrefix(l, "Safety code: "); ok {
			return c
		}
	}
	t.Fatalf("no safety code in stderr:\n%s", stderr)
	return ""
}

// exchange links a (tunnel "home") and b (tunnel "work").
func exchange(t *testing.T, a, b *side) (pa, pb int) {
	t.Helper()
	ports := freePorts(t, 2)
	pa, pb = ports[0], ports[1]
	inv := a.ok("", "invite", "home", "--endpoint", fmt.Sprintf("127.0.0.1:%d", pa), "--name", "alice")
	token := strings.TrimSpace(inv.stdout)
	if strings.Count(inv.stdout, "\n") != 1 || !strings.HasPrefix(token, "WGP") {
		t.Fatalf("invite stdout is not exactly one invite line: %q", inv.stdout)
	}
	acc := b.ok("", "accept", "work", token, "--endpoint", fmt.Sprintf("127.0.0.1:%d", pb), "--name", "bob")
	reply := strings.TrimSpace(acc.stdout)
	if strings.Count(acc.stdout, "\n") != 1 || !strings.HasPrefix(reply, "WGP") || reply == token {
		t.Fatalf("accept stdout is not exactly one reply line: %q", acc.stdout)
	}
	fin := a.ok(reply+"\n", "accept", "home", "-")
	if fin.stdout != "" {
		t.Errorf("accepting a reply printed %q on stdout", fin.stdout)
	}
	if ca, cb := safetyCode(t, acc.stderr), safetyCode(t, fin.stderr); ca != cb {
		t.Errorf("safety codes differ: %q vs %q", ca, cb)
	}
	for _, r := range []result{acc, fin} {
		if !strings.Contains(r.stderr, "This link sends ") || !strings.Contains(r.stderr, " (the tunnel)") || !strings.Contains(r.stderr, "reaches this computer at ") {
			t.Errorf("accept does not say what the link routes; stderr:\n%s", r.stderr)
		}
	}
	return pa, pb
}

// TestPublicLANRefused: a public --lan is refused with nothing saved,
// unless --allow-public-routes; accept says what the link routes.
func TestPublicLANRefused(t *testing.T) {
	a, b := newSide(t), newSide(t)
	r := a.run("", "invite", "home", "--endpoint", "127.0.0.1:51820", "--lan", "8.8.8.0/24")
	if r.code == 0 || !strings.Contains(r.stderr, "8.8.8.0/24") || !strings.Contains(r.stderr, "public internet address space") {
		t.Fatalf("invite --lan 8.8.8.0/24: exit %d, stderr %s", r.code, r.stderr)
	}
	if f := a.files(); len(f) != 0 {
		t.Errorf("a refused invite saved %v", f)
	}
	inv := a.ok("", "invite", "home", "--endpoint", "127.0.0.1:51820", "--lan", "8.8.8.0/24", "--allow-public-routes")
	acc := b.ok("", "accept", "work", strings.TrimSpace(inv.stdout), "--endpoint", "127.0.0.1:51821", "--allow-public-routes", "--lan", "192.168.7.0/24")
	if !strings.Contains(acc.stderr, "8.8.8.0/24 (its shared LAN) into the tunnel") || !strings.Contains(acc.stderr, "your shared 192.168.7.0/24") {
		t.Errorf("accept stderr does not say what the link routes:\n%s", acc.stderr)
	}
}

func TestTwoSidedExchange(t *testing.T) {
	a, b := newSide(t), newSide(t)
	pa, pb := exchange(t, a, b)
	ca, cb := a.conf("home"), b.conf("work")
	if len(ca.Peers) != 1 || len(cb.Peers) != 1 {
		t.Fatalf("peers: %d, %d", len(ca.Peers), len(cb.Peers))
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"a's peer key", ca.Peers[0].PublicKey, cb.Interface.PrivateKey.PublicKey()},
		{"b's peer key", cb.Peers[0].PublicKey, ca.Interface.PrivateKey.PublicKey()},
		{"a's peer endpoint", ca.Peers[0].Endpoint.String(), fmt.Sprintf("127.0.0.1:%d", pb)},
		{"b's peer endpoint", cb.Peers[0].Endpoint.String(), fmt.Sprintf("127.0.0.1:%d", pa)},
		{"a's port", int(ca.Interface.ListenPort), pa},
		{"b's port", int(cb.Interface.ListenPort), pb},
		{"a's peer allowed", ca.Peers[0].AllowedIPs[0].String(), cb.Interface.Addresses[0].Addr().String() + "/32"},
		{"b's peer allowed", cb.Peers[0].AllowedIPs[0].String(), ca.Interface.Addresses[0].Addr().String() + "/32"},
		{"a's keepalive", ca.Peers[0].PersistentKeepalive, uint16(5)},
		{"b's keepalive", cb.Peers[0].PersistentKeepalive, uint16(5)},
		{"a's peer name", ca.Peers[0].Meta.Name, "bob"},
		{"b's peer name", cb.Peers[0].Meta.Name, "alice"},
		{"subnet", ca.Interface.Addresses[0].Masked().String(), cb.Interface.Addresses[0].Masked().String()},
		{"pending cleared", ca.Interface.Meta.PendingInviteID, ""},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, s := range []*side{a, b} {
		fi, err := os.Stat(s.dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("state dir mode %v, %v", fi.Mode().Perm(), err)
		}
	}

	// show has no private key; export has it only when asked.
	privA := ca.Interface.PrivateKey.String()
	if out := a.ok("", "show", "home").stdout; strings.Contains(out, privA) || !strings.Contains(out, "PublicKey = "+cb.Interface.PrivateKey.PublicKey().String()) {
		t.Errorf("show output wrong or leaks the key:\n%s", out)
	}
	if out := a.ok("", "export", "home").stdout; strings.Contains(out, privA) {
		t.Error("export without --private-key leaks the key")
	}
	exported := map[string]string{}
	for _, s := range []struct {
		side *side
		name string
	}{{a, "home"}, {b, "work"}} {
		path := filepath.Join(t.TempDir(), s.name+".conf")
		s.side.ok("", "export", s.name, "--private-key", "-o", path)
		data, _ := os.ReadFile(path)
		exported[s.name] = string(data)
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("exported file mode %v, want 0600", fi.Mode().Perm())
		}
		if os.Geteuid() != 0 {
			continue // wg-quick re-execs itself with sudo when not root
		}
		testutil.RequireTool(t, "wg-quick", "wireguard-tools")
		for _, f := range []string{path, filepath.Join(s.side.dir, s.name+".conf")} {
			out, err := exec.Command("wg-quick", "strip", f).CombinedOutput()
			if err != nil {
				t.Errorf("wg-quick strip %s: %v\n%s", f, err, out)
				continue
			}
			if !strings.Contains(string(out), "PrivateKey = ") || !strings.Contains(string(out), "PersistentKeepalive = 5") {
				t.Errorf("wg-quick strip %s output:\n%s", f, out)
			}
		}
	}
	if !strings.Contains(exported["home"], privA) {
		t.Error("export --private-key lacks the key")
	}

	// status --json prints exactly one Report.
	st := a.ok("", "status", "--json")
	dec := json.NewDecoder(strings.NewReader(st.stdout))
	var rep control.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, st.stdout)
	}
	if dec.More() {
		t.Errorf("status --json printed more than one object:\n%s", st.stdout)
	}
	if len(rep.Tunnels) != 1 || rep.Tunnels[0].Name != "home" || rep.Tunnels[0].Up || len(rep.Tunnels[0].Peers) != 1 ||
		rep.Tunnels[0].Peers[0].Name != "bob" || rep.Tunnels[0].Peers[0].State != control.StateDown {
		t.Errorf("status report %+v", rep)
	}
	human := a.ok("", "status").stdout
	for _, want := range []string{"tunnel home: down", "bob", "never", fmt.Sprintf("127.0.0.1:%d", pb)} {
		if !strings.Contains(human, want) {
			t.Errorf("status output lacks %q:\n%s", want, human)
		}
	}
	if got := a.ok("", "list").stdout; got != "home\n" {
		t.Errorf("list = %q", got)
	}
}

func TestBadInput(t *testing.T) {
	a, b := newSide(t), newSide(t)
	exchange(t, a, b)
	inv2 := strings.TrimSpace(a.ok("", "invite", "second", "--endpoint", "127.0.0.1:1").stdout)
	mid := len(inv2) / 2
	swap := map[byte]byte{'A': 'B', 'B': 'A'}
	c := inv2[mid]
	r, ok := swap[c]
	if !ok {
		r = 'A'
	}
	mangled := inv2[:mid] + string(r) + inv2[mid+1:]
	brokenConf := "[Interface]\nPrivateKey = notakey\nListenPort = 51820\n"
	if err := os.WriteFile(filepath.Join(a.dir, "broken.conf"), []byte(brokenConf), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		side  *side
		stdin string
		args  []string
		code  int
		want  []string // all must appear in stderr
	}{
		{"mangled invite", b, "", []string{"accept", "new", mangled}, 1, []string{"checksum", "copy and paste"}},
		{"truncated invite", b, "", []string{"accept", "new", inv2[:40]}, 1, []string{"cut off", "copy the whole line"}},
		{"not an invite", b, "", []string{"accept", "new", "hello"}, 1, []string{"not a WG Punch invite"}},
		{"own invite pasted back", a, "", []string{"accept", "new", inv2}, 1, []string{"made on this machine", "wgpunch accept second"}},
		{"accept into an existing tunnel", b, "", []string{"accept", "work", inv2}, 1, []string{"already exists", "wgpunch remove work"}},
		{"port out of range", a, "", []string{"invite", "third", "--port", "70000"}, 2, []string{"port must be a number from 1 to 65535"}},
		{"port not a number", a, "", []string{"set-port", "home", "abc"}, 2, []string{"port must be a number from 1 to 65535"}},
		{"port of another tunnel", a, "", []string{"set-port", "second", "0"}, 2, []string{"port must be"}},
		{"invite on a system port", a, "", []string{"invite", "third", "--endpoint", "1.2.3.4:5", "--port", "80"}, 1, []string{"port 80 is not allowed: ports below 1024 are reserved for system services; pick one from 1024 to 65535, e.g. 51820"}},
		{"accept on a system port", b, "", []string{"accept", "new", inv2, "--port", "1023"}, 1, []string{"ports below 1024 are reserved for system services"}},
		{"set-port to a system port", a, "", []string{"set-port", "home", "443"}, 1, []string{"port 443 is not allowed: ports below 1024"}},
		{"NAT check from a system port", a, "", []string{"natcheck", "--port", "53"}, 1, []string{"port 53 is not allowed: ports below 1024"}},
		{"bad endpoint", a, "", []string{"invite", "third", "--endpoint", "1.2.3.4"}, 1, []string{"HOST:PORT"}},
		{"bad LAN", a, "", []string{"invite", "third", "--endpoint", "1.2.3.4:5", "--lan", "10.0.0.0/33"}, 1, []string{"CIDR"}},
		{"bad tunnel name", a, "", []string{"invite", "way-too-long-name-for-linux", "--endpoint", "1.2.3.4:5"}, 1, []string{"tunnel name"}},
		{"broken config file", a, "", []string{"show", "broken"}, 1, []string{"broken", "line 2", "wgpunch remove broken"}},
		{"invite on broken config", a, "", []string{"invite", "broken", "--endpoint", "1.2.3.4:5"}, 1, []string{"broken"}},
		{"missing tunnel", a, "", []string{"show", "nope"}, 1, []string{"no such tunnel", "wgpunch list"}},
		{"up without daemon", a, "", []string{"up", "home"}, 1, []string{"daemon is not running", "sudo wgpunch --state-dir " + a.dir + " --socket " + a.sock + " daemon"}},
		{"remove without --yes", a, "", []string{"remove", "home"}, 2, []string{"--yes"}},
		{"unknown command", a, "", []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"missing argument", a, "", []string{"invite"}, 2, []string{"missing argument", "Usage: wgpunch invite"}},
		{"unknown flag", a, "", []string{"invite", "x", "--bogus"}, 2, []string{"bogus"}},
		{"empty stdin", b, "", []string{"accept", "new", "-"}, 1, []string{"no invite or reply given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beforeA, beforeB := a.files(), b.files()
			r := tt.side.run(tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, a.conf("home").Interface.PrivateKey.String()) {
				t.Error("stderr contains a private key")
			}
			if diff := cmp.Diff(beforeA, a.files()); diff != "" {
				t.Errorf("a's files changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(beforeB, b.files()); diff != "" {
				t.Errorf("b's files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	s := newSide(t)
	if r := s.ok("", "--version"); !strings.HasPrefix(r.stdout, "wgpunch ") {
		t.Errorf("--version = %q", r.stdout)
	}
	help := s.ok("", "help").stdout
	for _, c := range commands {
		if !strings.Contains(help, "  "+c.name+" ") {
			t.Errorf("help lacks %q", c.name)
		}
	}
	if r := s.ok("", "accept", "-h"); !strings.Contains(r.stdout, "Usage: wgpunch accept NAME") {
		t.Errorf("accept -h = %q", r.stdout)
	}
	if r := s.ok("", "help", "status"); !strings.Contains(r.stdout, "--watch") {
		t.Errorf("help status = %q", r.stdout)
	}
}

// TestDocsCarryUsage keeps docs/control.md's usage text in step with the CLI.
func TestDocsCarryUsage(t *testing.T) {
	doc, err := os.ReadFile("../../docs/control.md")
	if err != nil {
		t.Skipf("docs/control.md: %v", err)
	}
	s := newSide(t)
	texts := []string{s.ok("", "help").stdout}
	for _, c := range commands {
		texts = append(texts, s.ok("", "help", c.name).stdout)
	}
	for _, text := range texts {
		if !strings.Contains(string(doc), text) {
			t.Errorf("docs/control.md lacks this usage text (regenerate its CLI section):\n%s", text)
		}
	}
}
