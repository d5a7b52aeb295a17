package ipc

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// The helper client: run as another uid by TestPermissions.
func TestHelperClient(t *testing.T) {
	sock := os.Getenv("WGPUNCH_HELPER_SOCKET")
	if sock == "" {
		t.Skip("helper process for TestPermissions")
	}
	out := map[string]string{}
	code := func(err error) string {
		if err == nil {
			return "ok"
		}
		c, _ := errCode(err)
		if errors.Is(err, ErrPermission) {
			return "permission: " + err.Error()
		}
		return c + ": " + err.Error()
	}
	cl, err := Dial(sock)
	if err != nil {
		out["dial"] = code(err)
	} else {
		out["uid"] = strconv.Itoa(os.Getuid())
		_, err = cl.Status(ctx, "")
		out["status"] = code(err)
		_, err = cl.List(ctx)
		out["list"] = code(err)
		_, err = cl.Show(ctx, "home")
		out["show"] = code(err)
		_, err = cl.Export(ctx, "home", false)
		out["export"] = code(err)
		_, err = cl.Export(ctx, "home", true)
		out["export-key"] = code(err)
		out["up"] = code(cl.Up(ctx, "home"))
		out["down"] = code(cl.Down(ctx, "home"))
		out["set-port"] = code(cl.SetListenPort(ctx, "home", 40999))
		out["rename"] = code(cl.Rename(ctx, "home", "stolen"))
		_, err = cl.Invite(ctx, InviteRequest{Name: "evil", Endpoint: "127.0.0.1:1"})
		out["invite"] = code(err)
		_, err = cl.PreviewAccept(ctx, AcceptRequest{Name: "x", Token: "garbage"})
		out["accept-preview"] = code(err)
		out["remove"] = code(cl.Remove(ctx, "home"))
		set, err := cl.Settings(ctx)
		out["settings"] = code(err)
		if err == nil {
			out["settings-stun"] = strings.Join(set.STUNServers, ",")
		}
		out["set-settings"] = code(cl.SetSettings(ctx, Settings{STUNServers: []string{"192.0.2.1"}}))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func TestPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the client as another uid")
	}
	users, err := user.LookupGroup("users")
	if err != nil {
		t.Skip("no group \"users\" to test membership with")
	}
	gid, _ := strconv.Atoi(users.Gid)
	// A directory "nobody" can reach, holding the socket and a copy of this
	// test binary.
	dir, err := os.MkdirTemp("", "wgpunch-h5-ipc-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	a := NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.SetSettings(ctx, Settings{STUNServers: []string{"192.0.2.9"}}); err != nil {
		t.Fatal(err)
	}
	sock := serve(t, a, dir, ServerOptions{Group: "users"})

	run := func(groups []uint32) map[string]string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestHelperClient$", "-test.count=1")
		cmd.Env = append(os.Environ(), "WGPUNCH_HELPER_SOCKET="+sock, "HOME=/")
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, outb)
		}
		line := strings.SplitN(string(outb), "\n", 2)[0]
		var res map[string]string
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("helper output %q: %v", outb, err)
		}
		return res
	}

	before := a.Snapshot()
	res := run(nil)
	if res["uid"] != "65534" {
		t.Fatalf("helper ran as uid %q: %v", res["uid"], res)
	}
	for _, op := range []string{"status", "list", "show", "export", "settings"} {
		if res[op] != "ok" {
			t.Errorf("%s by an unprivileged user: %s, want ok", op, res[op])
		}
	}
	if res["settings-stun"] != "192.0.2.9:3478" {
		t.Errorf("settings read by an unprivileged user: STUN %q, want the saved 192.0.2.9:3478", res["settings-stun"])
	}
	for _, op := range []string{"export-key", "up", "down", "set-port", "rename", "invite", "accept-preview", "remove", "set-settings"} {
		if !strings.HasPrefix(res[op], "permission: permission denied: only root and members of group \"users\"") || !strings.Contains(res[op], "usermod -aG users nobody") {
			t.Errorf("%s by an unprivileged user: %s, want permission denied", op, res[op])
		}
	}
	if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
		t.Errorf("denied calls changed files (-before +after):\n%s", diff)
	}
	if got := a.Eng.Running(); !cmp.Equal(got, []string{"home"}) {
		t.Errorf("denied calls changed running tunnels: %v", got)
	}

	// A member of the group (supplementary) may.
	res = run([]uint32{uint32(gid)})
	for _, op := range []string{"export-key", "down", "set-port", "set-settings"} {
		if res[op] != "ok" {
			t.Errorf("%s by a group member: %s, want ok", op, res[op])
		}
	}
	if !strings.HasPrefix(res["accept-preview"], codeInvalid+": ") {
		t.Errorf("accept-preview of garbage by a group member: %s, want it past the permission check and refused as invalid input", res["accept-preview"])
	}
	if set, err := a.Svc.Settings(ctx); err != nil || !cmp.Equal(set.STUNServers, []string{"192.0.2.1:3478"}) {
		t.Errorf("group member's set-settings not saved: %+v, %v", set, err)
	}
	if c := a.Load("stolen"); c.Interface.ListenPort != 40999 {
		t.Errorf("group member's set-port not applied: %d", c.Interface.ListenPort)
	}
}
