package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/ipc"
)

// The JSON the CLI prints, decoded with this package's own copies of the
// agreed field names (tunnel/monitor/status.go, tunnel/natcheck/report.go),
// so a renamed field shows up here as a failing scenario.
type (
	statusReport struct {
		Tunnels []tunnelStatus `json:"tunnels"`
	}
	tunnelStatus struct {
		Name       string       `json:"name"`
		Up         bool         `json:"up"`
		Interface  string       `json:"interface"`
		Address    string       `json:"address"`
		ListenPort uint16       `json:"listen_port"`
		PublicKey  string       `json:"public_key"`
		Peers      []peerStatus `json:"peers"`
		Warnings   []warning    `json:"warnings"`
		Error      string       `json:"error"`
	}
	peerStatus struct {
		Name          string     `json:"name"`
		PublicKey     string     `json:"public_key"`
		Address       string     `json:"address"`
		Endpoint      string     `json:"endpoint"`
		AllowedIPs    []string   `json:"allowed_ips"`
		LastHandshake *time.Time `json:"last_handshake"`
		RxBytes       int64      `json:"rx_bytes"`
		TxBytes       int64      `json:"tx_bytes"`
		State         string     `json:"state"`
		Diagnosis     *diagnosis `json:"diagnosis"`
		Path          string     `json:"path"`
		Candidates    []struct {
			Kind     string `json:"kind"`
			Endpoint string `json:"endpoint"`
		} `json:"candidates"`
		LANs []lanStatus `json:"lans"`
	}
	// lanStatus is a LAN the peer shares and how this side reaches it
	// (reach_as is the prefix itself when no alias is needed).
	lanStatus struct {
		Prefix  string `json:"prefix"`
		ReachAs string `json:"reach_as"`
	}
	diagnosis struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Action  string `json:"action"`
	}
	warning struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		FixPort uint16 `json:"fix_port"`
		Peer    string `json:"peer"`
		Update  string `json:"update"`
	}
	natReport struct {
		PublicEndpoint string         `json:"public_endpoint"`
		LocalPort      uint16         `json:"local_port"`
		Mapping        string         `json:"mapping"`
		PortPreserved  bool           `json:"port_preserved"`
		UDPBlocked     bool           `json:"udp_blocked"`
		CGNAT          bool           `json:"cgnat"`
		Servers        []serverResult `json:"servers"`
		Verdict        string         `json:"verdict"`
		Message        string         `json:"message"`
	}
	serverResult struct {
		Server  string `json:"server"`
		Address string `json:"address"`
		Mapped  string `json:"mapped"`
		Error   string `json:"error"`
	}
)

// Tunnel returns the named tunnel's status, or nil.
func (r *statusReport) Tunnel(name string) *tunnelStatus {
	for i := range r.Tunnels {
		if r.Tunnels[i].Name == name {
			return &r.Tunnels[i]
		}
	}
	return nil
}

// addrOnly strips the prefix length: "10.77.1.2/32" -> "10.77.1.2".
func addrOnly(p string) string { return strings.SplitN(p, "/", 2)[0] }

var (
	wgpunchOnce sync.Once
	wgpunchBin  string
	wgpunchErr  error
	wgpunchDir  string
)

// needWGPunch returns the wgpunch binary (built once with -tags nogui into a
// 0755 directory so uid 65534 can run it, or $WGPUNCH_BIN), skipping t
// when the CLI does not exist yet and failing it when it does not build.
func needWGPunch(t testing.TB) string {
	t.Helper()
	wgpunchOnce.Do(func() {
		if bin := os.Getenv("WGPUNCH_BIN"); bin != "" {
			wgpunchBin = bin
			return
		}
		if _, err := os.Stat("../cmd/trayapp/main.go"); err != nil {
			wgpunchErr = fmt.Errorf("skip: the CLI (cmd/trayapp/main.go) does not exist yet")
			return
		}
		dir, err := os.MkdirTemp("", "wgplab-bin-")
		if err != nil {
			wgpunchErr = err
			return
		}
		wgpunchDir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			wgpunchErr = err
			return
		}
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		bin := filepath.Join(dir, "wgpunch")
		cmd := exec.Command(goTool, "build", "-tags", "nogui", "-o", bin, "./cmd/trayapp")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			wgpunchErr = fmt.Errorf("go build -tags nogui ./cmd/trayapp: %v\n%s", err, out)
			return
		}
		wgpunchBin = bin
	})
	if wgpunchErr != nil {
		if strings.HasPrefix(wgpunchErr.Error(), "skip: ") {
			t.Skip(strings.TrimPrefix(wgpunchErr.Error(), "skip: "))
		}
		t.Fatal(wgpunchErr)
	}
	return wgpunchBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wgpunchDir != "" {
		os.RemoveAll(wgpunchDir)
	}
	os.Exit(code)
}

// StartDaemon runs `wgpunch daemon` on h with its own state dir and socket
// and waits until the socket answers.
func (h *Host) StartDaemon() {
	t := h.lab.t
	t.Helper()
	bin := needWGPunch(t)
	h.daemon = h.Start("wgpunch-daemon", bin, "--state-dir", h.StateDir, "--socket", h.Socket, "daemon")
	_, err := waitFor(15*time.Second, 100*time.Millisecond, func() (bool, string) {
		if !h.daemon.Running() {
			return false, "daemon exited: " + tail(h.daemon.Output(), 30)
		}
		// The CLI falls back to the state directory when no daemon
		// answers, so ask the socket itself: is it this daemon?
		c, err := ipc.Dial(h.Socket)
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		if c.Info.PID != h.daemon.Pid() || !c.Info.Engine {
			return false, fmt.Sprintf("socket answered by %+v, want pid %d with engine", c.Info, h.daemon.Pid())
		}
		return true, ""
	})
	if err != nil {
		t.Fatalf("%s: start daemon: %v", h.Name, err)
	}
	// The lab's own STUN servers for everything the daemon asks by itself
	// (the address watch): nothing looks up the public defaults.
	h.MustWGP("settings", "--stun", stunServers)
}

// StopDaemon stops the daemon with SIGTERM.
func (h *Host) StopDaemon() error {
	if h.daemon == nil {
		return nil
	}
	return h.daemon.Stop()
}

// WGP runs `wgpunch --state-dir D --socket S ARGS` on h as root.
func (h *Host) WGP(args ...string) (stdout, stderr string, err error) {
	return h.wgp(nil, args...)
}

// WGPAs runs `wgpunch --state-dir D --socket S ARGS` on h as uid/gid 65534 (nobody) with
// no supplementary groups.
func (h *Host) WGPAs(args ...string) (stdout, stderr string, err error) {
	return h.wgp([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}, args...)
}

// WGPAsMember runs `wgpunch ...` on h as uid/gid 4243 with supplementary
// group gid (a member of the group allowed to change tunnels).
func (h *Host) WGPAsMember(gid int, args ...string) (stdout, stderr string, err error) {
	return h.wgp([]string{"setpriv", "--reuid=4243", "--regid=4243", fmt.Sprintf("--groups=%d", gid), "--"}, args...)
}

func (h *Host) wgp(prefix []string, args ...string) (stdout, stderr string, err error) {
	bin := needWGPunch(h.lab.t)
	// --state-dir too: should the daemon not answer, the CLI then works on
	// this host's directory instead of /var/lib/wgpunch of the real machine.
	full := append(append(prefix, bin, "--state-dir", h.StateDir, "--socket", h.Socket), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := h.enter(full...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: wgpunch %s: %w: %s", h.Name, strings.Join(args, " "), err, strings.TrimSpace(e.String()))
	}
	return o.String(), e.String(), err
}

// MustWGP is WGP that fails the test on error and returns stdout.
func (h *Host) MustWGP(args ...string) string {
	h.lab.t.Helper()
	out, _, err := h.WGP(args...)
	if err != nil {
		h.lab.t.Fatal(err)
	}
	return out
}

// Status returns `wgpunch status --json`.
func (h *Host) Status() (*statusReport, error) {
	out, stderr, err := h.WGP("status", "--json")
	if err != nil {
		return nil, err
	}
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return nil, fmt.Errorf("%s: status --json is not the agreed JSON: %v\n%s%s", h.Name, err, out, stderr)
	}
	return &r, nil
}

// TunnelStatus returns one tunnel's status, failing the test if it is missing.
func (h *Host) TunnelStatus(name string) *tunnelStatus {
	h.lab.t.Helper()
	r, err := h.Status()
	if err != nil {
		h.lab.t.Fatal(err)
	}
	ts := r.Tunnel(name)
	if ts == nil {
		h.lab.t.Fatalf("%s: status has no tunnel %q: %+v", h.Name, name, r)
	}
	return ts
}

// PeerState is the first peer's state of tunnel name ("" if none).
func (h *Host) PeerState(name string) string {
	r, err := h.Status()
	if err != nil {
		return "error: " + err.Error()
	}
	ts := r.Tunnel(name)
	if ts == nil || len(ts.Peers) == 0 {
		return ""
	}
	return ts.Peers[0].State
}

// WaitState polls status until tunnel name's first peer is in state want.
func (h *Host) WaitState(name, want string, timeout time.Duration) (time.Duration, error) {
	return waitFor(timeout, 250*time.Millisecond, func() (bool, string) {
		got := h.PeerState(name)
		return got == want, fmt.Sprintf("%s: tunnel %s peer state %q, want %q", h.Name, name, got, want)
	})
}

// NATCheck runs `wgpunch natcheck --json` against the lab's STUN servers.
func (h *Host) NATCheck(port int, servers string) (*natReport, time.Duration, error) {
	args := []string{"natcheck", "--json", "--stun", servers}
	if port != 0 {
		args = append(args, "--port", fmt.Sprint(port))
	}
	start := time.Now()
	out, stderr, err := h.WGP(args...)
	d := time.Since(start)
	if err != nil && out == "" {
		return nil, d, err
	}
	var r natReport
	if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
		return nil, d, fmt.Errorf("%s: natcheck --json is not the agreed JSON: %v (exit: %v)\n%s%s", h.Name, jerr, err, out, stderr)
	}
	return &r, d, nil
}

// tokenLine picks the token out of invite/accept stdout: the last
// non-empty line.
func tokenLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// linkOpts are per-side options of Link.
type linkOpts struct {
	Port     int      // --port, 0: let WG Punch choose
	Endpoint string   // --endpoint, "": discover with --stun
	STUN     string   // --stun servers; "": the lab's IPv4 ones (stunServers)
	LANs     []string // --lan subnets this side shares
}

// linkResult is what happened during Link.
type linkResult struct {
	Invite, Reply string
	AcceptStderr  string // invitee's stderr when accepting the invite
	InviteStderr  string
	AAddr, BAddr  string // tunnel addresses
	APort, BPort  uint16 // listen ports
}

// Link runs the whole exchange with the CLI only: a invites, b accepts
// (printing a reply), a accepts the reply. Tunnels are named name on both
// sides and are not brought up.
func Link(t testing.TB, a, b *Host, name string, ao, bo linkOpts) *linkResult {
	t.Helper()
	args := func(cmd []string, o linkOpts) []string {
		if o.Port != 0 {
			cmd = append(cmd, "--port", fmt.Sprint(o.Port))
		}
		for _, lan := range o.LANs {
			cmd = append(cmd, "--lan", lan)
		}
		if o.Endpoint != "" {
			cmd = append(cmd, "--endpoint", o.Endpoint)
		} else if o.STUN != "" {
			cmd = append(cmd, "--stun", o.STUN)
		} else {
			cmd = append(cmd, "--stun", stunServers)
		}
		return cmd
	}
	res := &linkResult{}
	out, stderr, err := a.WGP(args([]string{"invite", name}, ao)...)
	if err != nil {
		t.Fatal(err)
	}
	res.Invite, res.InviteStderr = tokenLine(out), stderr
	out, stderr, err = b.WGP(args([]string{"accept", name, res.Invite}, bo)...)
	if err != nil {
		t.Fatal(err)
	}
	res.Reply, res.AcceptStderr = tokenLine(out), stderr
	if res.Reply == "" || res.Reply == res.Invite {
		t.Fatalf("%s: accept printed no reply line: stdout %q stderr %q", b.Name, out, stderr)
	}
	if _, _, err := a.WGP("accept", name, res.Reply); err != nil {
		t.Fatal(err)
	}
	sa, sb := a.TunnelStatus(name), b.TunnelStatus(name)
	if len(sa.Peers) != 1 || len(sb.Peers) != 1 {
		t.Fatalf("after the exchange: %s has %d peers, %s has %d; want 1 each", a.Name, len(sa.Peers), b.Name, len(sb.Peers))
	}
	if sa.Peers[0].PublicKey != sb.PublicKey || sb.Peers[0].PublicKey != sa.PublicKey {
		t.Fatalf("public keys do not match across the exchange: %s=%s (peer %s) %s=%s (peer %s)",
			a.Name, sa.PublicKey, sa.Peers[0].PublicKey, b.Name, sb.PublicKey, sb.Peers[0].PublicKey)
	}
	res.AAddr, res.BAddr = addrOnly(sa.Address), addrOnly(sb.Address)
	res.APort, res.BPort = sa.ListenPort, sb.ListenPort
	if res.AAddr == "" || res.BAddr == "" || res.AAddr == res.BAddr {
		t.Fatalf("tunnel addresses %q and %q", sa.Address, sb.Address)
	}
	if addrOnly(sa.Peers[0].Address) != res.BAddr || addrOnly(sb.Peers[0].Address) != res.AAddr {
		t.Fatalf("peer addresses do not match: %s sees %s, %s sees %s", a.Name, sa.Peers[0].Address, b.Name, sb.Peers[0].Address)
	}
	return res
}
