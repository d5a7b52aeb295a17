package installer

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unitValues returns the values of key in the [Service] section of a unit.
func unitValues(t *testing.T, unit, key string) []string {
	t.Helper()
	f, err := os.Open(unit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vals []string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && section == "[Service]" && strings.TrimSpace(k) == key {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// execStartArgv turns an ExecStart= value into argv: systemd's "-", "@",
// ":", "+" and "!" prefixes are dropped; the value must not rely on shell
// quoting or variables (WG Punch's unit does not).
func execStartArgv(t *testing.T, v string) []string {
	t.Helper()
	v = strings.TrimLeft(v, "-@:+!")
	if strings.ContainsAny(v, `"'$%`) {
		t.Fatalf("ExecStart=%s uses quoting, variables or specifiers this test does not expand", v)
	}
	return strings.Fields(v)
}

// desktopExec returns the Exec= value of a desktop entry's [Desktop Entry]
// group as argv; field codes (%U...) and quoting are refused, WG Punch's
// entries use neither.
func desktopExec(t *testing.T, what, entry string) []string {
	t.Helper()
	group := ""
	var execs []string
	for _, line := range strings.Split(entry, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && group == "[Desktop Entry]" && k == "Exec" {
			execs = append(execs, v)
		}
	}
	if len(execs) != 1 {
		t.Fatalf("%s has Exec=%q, want one line", what, execs)
	}
	if strings.ContainsAny(execs[0], `"'%\`) {
		t.Fatalf("%s: Exec=%s uses quoting or field codes this test does not expand", what, execs[0])
	}
	return strings.Fields(execs[0])
}

func groupExists(name string) bool {
	return exec.Command("getent", "group", name).Run() == nil
}

func TestLinuxDeb(t *testing.T) {
	requireDistTests(t, "make", "dpkg", "dpkg-deb", "rsvg-convert", "getent")
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")
	run(t, true, "make", "-f", "mk/dist.mk", "dist-linux", "DIST="+dist, "LINUX_TAGS=nogui", "VERSION=0.1.0", "COMMIT="+testCommit)
	deb := filepath.Join(dist, "linux", "wgpunch_0.1.0_"+goarch()+".deb")

	info := run(t, true, "dpkg-deb", "--info", deb)
	mustContain(t, "deb control", info, "Package: wgpunch", "Version: 0.1.0", "Depends: libc6", "postinst", "postrm", "prerm")
	contents := run(t, true, "dpkg-deb", "--contents", deb)
	files := []string{
		"/usr/bin/wgpunch",
		"/usr/lib/systemd/system/wgpunch.service",
		"/usr/share/applications/io.github.wgpunch.desktop",
		"/etc/xdg/autostart/io.github.wgpunch.desktop",
		"/usr/share/icons/hicolor/scalable/apps/wgpunch.svg",
		"/usr/share/icons/hicolor/48x48/apps/wgpunch.png",
		"/usr/share/icons/hicolor/128x128/apps/wgpunch.png",
		"/usr/share/icons/hicolor/256x256/apps/wgpunch.png",
		"/usr/share/icons/hicolor/512x512/apps/wgpunch.png",
	}
	for _, f := range files {
		mustContain(t, "deb contents", contents, "."+f)
	}
	if t.Failed() {
		return
	}

	// The menu entry opens the window; the login entry starts in the tray
	// (the window stays hidden until "Open WG Punch").
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/usr/share/applications/io.github.wgpunch.desktop", []string{"wgpunch"}},
		{"/etc/xdg/autostart/io.github.wgpunch.desktop", []string{"wgpunch", "--tray"}},
	} {
		entry := debFile(t, deb, tc.path)
		if got := desktopExec(t, tc.path, entry); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: Exec runs %q, want %q", tc.path, got, tc.want)
		}
	}

	// Installing changes this machine: only when it is safe to undo.
	if os.Geteuid() != 0 {
		t.Skip("installing the .deb needs root")
	}
	if exec.Command("dpkg", "-s", "wgpunch").Run() == nil {
		t.Skip("a wgpunch package is already installed; not touching it")
	}
	for _, p := range []string{"/usr/bin/wgpunch", "/run/wgpunch"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists (another wgpunch in use on this machine); not installing over it", p)
		}
	}
	// An empty state directory left by someone else is recreated afterwards
	// (purge deletes it); one with tunnels in it is not ours to touch.
	stateBefore := false
	if ents, err := os.ReadDir("/var/lib/wgpunch"); err == nil {
		if len(ents) > 0 {
			t.Skip("/var/lib/wgpunch holds tunnels; not installing over them")
		}
		stateBefore = true
	}
	groupBefore := groupExists("wgpunch")
	t.Cleanup(func() {
		exec.Command("dpkg", "--purge", "wgpunch").Run()
		os.RemoveAll("/run/wgpunch")
		if stateBefore {
			os.MkdirAll("/var/lib/wgpunch", 0o700)
		}
		if !groupBefore && groupExists("wgpunch") {
			exec.Command("groupdel", "wgpunch").Run()
		}
	})

	run(t, true, "dpkg", "-i", deb)
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after dpkg -i: %v", err)
		}
	}
	if !groupExists("wgpunch") {
		t.Error("postinst did not create the wgpunch group")
	}
	out := run(t, true, "/usr/bin/wgpunch", "--version")
	mustContain(t, "wgpunch --version", out, "0.1.0", testCommit)
	// The installed binary knows the flag the login entry passes (a CLI
	// build then prints its version instead of opening a window).
	autostart, _ := os.ReadFile("/etc/xdg/autostart/io.github.wgpunch.desktop")
	login := desktopExec(t, "installed autostart entry", string(autostart))
	out = run(t, true, "/usr/bin/wgpunch", append(login[1:], "--version")...)
	mustContain(t, "wgpunch "+strings.Join(login[1:], " ")+" --version", out, "0.1.0")
	desktop, _ := os.ReadFile("/usr/share/applications/io.github.wgpunch.desktop")
	mustContain(t, "desktop entry", string(desktop), "Exec=wgpunch", "Icon=wgpunch", "Type=Application")
	if _, err := exec.LookPath("desktop-file-validate"); err == nil {
		for _, f := range []string{"/usr/share/applications/io.github.wgpunch.desktop", "/etc/xdg/autostart/io.github.wgpunch.desktop"} {
			if v, err := exec.Command("desktop-file-validate", f).CombinedOutput(); err != nil || len(v) > 0 {
				t.Errorf("desktop-file-validate %s: %v\n%s", f, err, v)
			}
		}
	}

	// systemd is not PID 1 here: start the daemon with the unit's own
	// ExecStart line, after creating what systemd would (RuntimeDirectory=,
	// StateDirectory=), then talk to it with the CLI.
	unit := "/usr/lib/systemd/system/wgpunch.service"
	starts := unitValues(t, unit, "ExecStart")
	if len(starts) != 1 {
		t.Fatalf("unit has ExecStart=%q, want one line", starts)
	}
	argv := execStartArgv(t, starts[0])
	if argv[0] != "/usr/bin/wgpunch" {
		t.Errorf("ExecStart runs %q, want the packaged /usr/bin/wgpunch", argv[0])
	}
	for _, d := range unitValues(t, unit, "RuntimeDirectory") {
		for _, name := range strings.Fields(d) {
			os.MkdirAll(filepath.Join("/run", name), 0o755)
		}
	}
	for _, d := range unitValues(t, unit, "StateDirectory") {
		for _, name := range strings.Fields(d) {
			os.MkdirAll(filepath.Join("/var/lib", name), 0o700)
		}
	}
	for _, pre := range unitValues(t, unit, "ExecStartPre") {
		pargv := execStartArgv(t, pre)
		if out, err := exec.Command(pargv[0], pargv[1:]...).CombinedOutput(); err != nil && !strings.HasPrefix(pre, "-") {
			t.Fatalf("ExecStartPre=%s: %v\n%s", pre, err, out)
		}
	}
	// The daemon announces tunnels by mDNS: run it in a network namespace of
	// our own (loopback only) so no packet leaves; the CLI reaches it through
	// the Unix socket, which namespaces do not separate.
	ns := fmt.Sprintf("h7deb%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", ns, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run()
	ctx, cancel := context.WithCancel(context.Background())
	daemon := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	daemonLog, _ := os.Create(filepath.Join(tmp, "daemon.log"))
	daemon.Stdout, daemon.Stderr = daemonLog, daemonLog
	if err := daemon.Start(); err != nil {
		t.Fatalf("start %q: %v", argv, err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			cancel()
			daemon.Wait()
			stopped = true
		}
	}
	t.Cleanup(stop)

	sock := "/run/wgpunch/wgpunch.sock"
	for deadline := time.Now().Add(20 * time.Second); !isSocket(sock); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(daemonLog.Name())
			t.Fatalf("the daemon started by ExecStart=%s never listened on %s; log:\n%s", starts[0], sock, log)
		}
	}
	status := run(t, true, "/usr/bin/wgpunch", "status")
	if strings.TrimSpace(status) == "" {
		t.Error("wgpunch status printed nothing")
	}
	stop()

	run(t, true, "dpkg", "-r", "wgpunch")
	for _, f := range files {
		if f == "/etc/xdg/autostart/io.github.wgpunch.desktop" {
			continue // a conffile: stays until purge, as Debian wants
		}
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("after dpkg -r, %s still exists (%v)", f, err)
		}
	}
	if !groupExists("wgpunch") {
		t.Error("dpkg -r removed the wgpunch group; only purge should")
	}
	run(t, true, "dpkg", "--purge", "wgpunch")
	if _, err := os.Stat("/etc/xdg/autostart/io.github.wgpunch.desktop"); !os.IsNotExist(err) {
		t.Errorf("after purge the autostart entry is still there (%v)", err)
	}
	if _, err := os.Stat("/var/lib/wgpunch"); !os.IsNotExist(err) {
		t.Errorf("after purge /var/lib/wgpunch is still there (%v)", err)
	}
	if !groupBefore && groupExists("wgpunch") {
		t.Error("dpkg --purge left the wgpunch group")
	}
}

// debFile reads one file out of a .deb without installing it.
func debFile(t *testing.T, deb, path string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -xOf - "./$2"`, "sh", deb, strings.TrimPrefix(path, "/"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("read %s from %s: %v", path, deb, err)
	}
	return string(out)
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return false
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func goarch() string {
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		return "amd64"
	}
	return strings.TrimSpace(string(out))
}

// TestUnitProcSysWritable: the packaged unit keeps /proc/sys read-only
// (ProtectKernelTunables=yes) and makes writable under it only what LAN
// sharing writes: the per-interface conf directories of IPv4 and IPv6
// (tunnel/engine lanshare_linux.go; TestShareLANUnderUnit runs the engine
// under exactly these mounts).
func TestUnitProcSysWritable(t *testing.T) {
	unit := "linux/wgpunch.service"
	if got := unitValues(t, unit, "ProtectKernelTunables"); len(got) != 1 || got[0] != "yes" {
		t.Errorf("unit has ProtectKernelTunables=%q, want one line, yes", got)
	}
	allowed := map[string]bool{"/proc/sys/net/ipv4/conf": true, "/proc/sys/net/ipv6/conf": true}
	var got []string
	for _, v := range unitValues(t, unit, "ReadWritePaths") {
		for _, p := range strings.Fields(v) {
			if p := strings.TrimLeft(p, "-+"); strings.HasPrefix(p, "/proc") {
				got = append(got, p)
				if !allowed[p] {
					t.Errorf("unit makes %s writable; LAN sharing needs only %s", p, "/proc/sys/net/ipv4/conf and /proc/sys/net/ipv6/conf")
				}
			}
		}
	}
	if len(got) != len(allowed) {
		t.Errorf("unit's ReadWritePaths under /proc: %q, want both of /proc/sys/net/ipv4/conf and /proc/sys/net/ipv6/conf", got)
	}
}
