package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func addPeer(t *testing.T, cfg *conf.Config, host byte) {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Peers = append(cfg.Peers, conf.Peer{
		PublicKey:  k.PublicKey(),
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 1, host}), 32)},
	})
}

// TestLockNoLostUpdate: two writers (two Stores on one directory, so two
// open lock files as in two processes) each add a peer to the same tunnel
// in a read-modify-write. The second waits for the first; both peers are
// kept. Without the lock, the second Load would see neither change of the
// other and one Save would undo the other.
func TestLockNoLostUpdate(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(newConfig(t, "wgp0")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	aLoaded, bTrying := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // writer A: loads, lets B start, then saves
		defer wg.Done()
		errs <- a.Update(ctx, func() error {
			cfg, err := a.Load("wgp0")
			if err != nil {
				return err
			}
			close(aLoaded)
			<-bTrying
			addPeer(t, cfg, 10)
			return a.Save(cfg)
		})
	}()
	go func() { // writer B: starts while A holds its loaded copy
		defer wg.Done()
		<-aLoaded
		close(bTrying)
		errs <- b.Update(ctx, func() error {
			cfg, err := b.Load("wgp0")
			if err != nil {
				return err
			}
			addPeer(t, cfg, 11)
			return b.Save(cfg)
		})
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := a.Load("wgp0")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Peers); n != 3 {
		t.Fatalf("tunnel has %d peers after two writers added one each to 1, want 3 (a lost update)", n)
	}
}

// TestLockBusyNamesHolder: a second writer gives up when its context ends
// and names the holder in plain words.
func TestLockBusyNamesHolder(t *testing.T) {
	dir := t.TempDir()
	a, _ := Open(dir)
	b, _ := Open(dir)
	a.SetRole("the daemon")
	unlock, err := a.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Lock(ctx)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock = %v, want a *LockedError", err)
	}
	want := fmt.Sprintf("another WG Punch (the daemon, pid %d) is changing tunnels in %s; try again in a moment", os.Getpid(), a.Dir())
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if d := time.Since(start); d > DefaultLockWait {
		t.Errorf("waited %v, past the context's end", d)
	}
	unlock()
	for e, want := range map[*LockedError]string{
		{Dir: "/d", PID: 7}:               "another WG Punch (pid 7) is changing tunnels in /d; try again in a moment",
		{Dir: "/d", Role: "the tray app"}: "another WG Punch (the tray app) is changing tunnels in /d; try again in a moment",
		{Dir: "/d"}:                       "another WG Punch program is changing tunnels in /d; try again in a moment",
	} {
		if e.Error() != want {
			t.Errorf("%+v: %q, want %q", *e, e.Error(), want)
		}
	}
	unlock2, err := b.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

// TestLockOtherProcess: the lock holds across processes (a re-executed
// test binary holds it), and is gone once the holder exits.
func TestLockOtherProcess(t *testing.T) {
	if dir := os.Getenv("WGPUNCH_TEST_LOCK_DIR"); dir != "" {
		holdLock(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockOtherProcess$")
	cmd.Env = append(os.Environ(), "WGPUNCH_TEST_LOCK_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child said %q, %v; want \"locked\"", line, err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Update(ctx, func() error { return errors.New("ran without the lock") })
	want := fmt.Sprintf("another WG Punch (the command line, pid %d)", cmd.Process.Pid)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Update while another process holds the lock = %v, want %q", err, want)
	}
	stdin.Close() // the child unlocks and exits
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if err := s.Update(context.Background(), func() error { return nil }); err != nil {
		t.Fatalf("Update after the holder exited: %v", err)
	}
}

// holdLock is the child of TestLockOtherProcess: it takes the lock, says
// so, and holds it until its stdin closes.
func holdLock(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	s.SetRole("the command line")
	unlock, err := s.Lock(context.Background())
	if err != nil {
		fmt.Println("lock:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	unlock()
}

// TestLockFileIgnored: the lock file is not a tunnel.
func TestLockFileIgnored(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if names, err := s.List(); err != nil || len(names) != 0 {
		t.Fatalf("List = %v, %v; want no tunnels", names, err)
	}
	fi, err := os.Stat(s.Dir() + "/" + lockFile)
	if err != nil || fi.Mode().Perm() != filePerm {
		t.Fatalf("lock file: %v %v, want mode %o", fi, err, filePerm)
	}
}
