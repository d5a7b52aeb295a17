package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/ipc"
)

// TestDaemonInNetns runs the real daemon (wireguard-go engine) in a network
// namespace of its own: up/status/down through the socket, an unprivileged
// caller refused, SIGTERM keeps the up-set and a restart restores it.
func TestDaemonInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespace, TUN device)")
	}
	testutil.RequireTool(t, "ip", "iproute2")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("needs /dev/net/tun")
	}
	ns := fmt.Sprintf("h5d%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run()

	dir, err := os.MkdirTemp("", "wgpunch-h5-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "d.sock")
	a := &side{t: t, dir: filepath.Join(dir, "a"), sock: sock}
	b := &side{t: t, dir: filepath.Join(dir, "b"), sock: filepath.Join(dir, "none.sock")}

	startDaemon := func() (*exec.Cmd, *bytes.Buffer) {
		var log bytes.Buffer
		cmd := exec.Command("ip", "netns", "exec", ns, wgpunchBin, "--state-dir", a.dir, "--socket", sock, "daemon", "--no-lan")
		cmd.Stderr = &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			if _, err := ipc.Dial(sock); err == nil {
				return cmd, &log
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("daemon did not answer; log:\n%s", log.String())
		return nil, nil
	}
	stop := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("daemon did not stop on SIGTERM")
		}
	}
	d1, log1 := startDaemon()

	// A second daemon on the same socket is refused.
	r := a.run("", "daemon", "--no-lan")
	if r.code == 0 || !strings.Contains(r.stderr, "already answers") {
		t.Errorf("second daemon: exit %d, %s", r.code, r.stderr)
	}

	inv := strings.TrimSpace(a.ok("", "invite", "h5home", "--endpoint", "127.0.0.1:51901").stdout)
	reply := strings.TrimSpace(b.ok("", "accept", "h5work", inv, "--endpoint", "127.0.0.1:51902").stdout)
	a.ok("", "accept", "h5home", reply)
	a.ok("", "up", "h5home")
	status := func() control.Report {
		var rep control.Report
		out := a.ok("", "status", "--json").stdout
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		return rep
	}
	rep := status()
	if len(rep.Tunnels) != 1 || !rep.Tunnels[0].Up || rep.Tunnels[0].Peers[0].State != control.StateConnecting {
		t.Errorf("status after up: %+v", rep.Tunnels)
	}
	if out, err := exec.Command("ip", "-n", ns, "-br", "addr", "show", "h5home").CombinedOutput(); err != nil || !strings.Contains(string(out), rep.Tunnels[0].Address) {
		t.Errorf("interface in the namespace: %v %s", err, out)
	}

	// An unprivileged user may read but not change.
	nobody := exec.Command(wgpunchBin, "--socket", sock, "down", "h5home")
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	nobody.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	if out, err := nobody.CombinedOutput(); err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("down by nobody: %v %s", err, out)
	}
	if !status().Tunnels[0].Up {
		t.Error("refused down took the tunnel down")
	}

	// SIGTERM: interface gone, up-set kept; restart restores.
	stop(d1)
	if out, err := exec.Command("ip", "-n", ns, "link", "show", "h5home").CombinedOutput(); err == nil {
		t.Errorf("interface still there after SIGTERM: %s", out)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	d2, log2 := startDaemon()
	if rep := status(); len(rep.Tunnels) != 1 || !rep.Tunnels[0].Up {
		t.Errorf("not restored after restart: %+v\nlog:\n%s", rep.Tunnels, log2)
	}
	a.ok("", "down", "h5home")
	if rep := status(); rep.Tunnels[0].Up {
		t.Error("still up after down")
	}
	stop(d2)
	for _, l := range []*bytes.Buffer{log1, log2} {
		cfg := a.conf("h5home")
		if strings.Contains(l.String(), cfg.Interface.PrivateKey.String()) {
			t.Error("daemon log contains the private key")
		}
	}
}
