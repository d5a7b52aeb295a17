package conf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests feed Marshal's output to the real wireguard-tools. They need
// root (wg-quick re-executes itself with sudo otherwise) and are skipped
// without it or without the tools.

func needRootTools(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: wg-quick and network namespaces require it")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install wireguard-tools wireguard-go iproute2)", tool)
		}
	}
}

// wgQuickStrip writes data as <dir>/<name>.conf and returns `wg-quick strip`.
func wgQuickStrip(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".conf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "wg-quick", "strip", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wg-quick strip refused our file: %v\n%s\nfile:\n%s", err, stderr.Bytes(), data)
	}
	return out
}

// wgOnly is c reduced to what `wg` knows: no wg-quick keys, no metadata.
func wgOnly(c *Config) *Config {
	w := c.Clone()
	w.Interface = Interface{PrivateKey: c.Interface.PrivateKey, ListenPort: c.Interface.ListenPort}
	for i := range w.Peers {
		w.Peers[i].Meta = PeerMeta{}
		sort.Slice(w.Peers[i].AllowedIPs, func(a, b int) bool {
			return w.Peers[i].AllowedIPs[a].String() < w.Peers[i].AllowedIPs[b].String()
		})
	}
	return w
}

func TestWGQuickStripAcceptsMarshal(t *testing.T) {
	needRootTools(t, "wg-quick")
	c := fullConfig()
	stripped := wgQuickStrip(t, "wgp0", c.Marshal())
	if bytes.Contains(stripped, []byte("\nAddress =")) || bytes.Contains(stripped, []byte("\nMTU =")) || bytes.Contains(stripped, []byte("\nDNS =")) {
		t.Errorf("wg-quick strip kept wg-quick keys:\n%s", stripped)
	}
	// wg-quick keeps comments, so the metadata survives stripping.
	got, err := Parse("wgp0", stripped)
	if err != nil {
		t.Fatalf("Parse(wg-quick strip output): %v\n%s", err, stripped)
	}
	want := c.Clone()
	want.Interface.Addresses, want.Interface.DNS, want.Interface.DNSSearch, want.Interface.MTU = nil, nil, nil, 0
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("stripped config mismatch (-want +got):\n%s", diff)
	}
	// The export without the key is still a file wg-quick accepts.
	wgQuickStrip(t, "wgp0", c.MarshalExport(false))
}

// setconfScript runs wireguard-go in a fresh network namespace with a
// private /run/wireguard, loads $2 with `wg setconf` and prints `wg showconf`.
const setconfScript = `set -e
NS="$1"
ip netns add "$NS"
trap 'ip netns del "$NS"' EXIT
unshare -m sh -c '
set -e
mount --make-rprivate /
mkdir -p /run/wireguard
mount -t tmpfs -o mode=0700 tmpfs /run/wireguard
WG_PROCESS_FOREGROUND=1 ip netns exec "$1" wireguard-go -f wgtest0 >/dev/null 2>&1 &
PID=$!
trap "kill $PID 2>/dev/null; wait $PID 2>/dev/null || true" EXIT
for i in $(seq 100); do [ -S /run/wireguard/wgtest0.sock ] && break; sleep 0.05; done
ip netns exec "$1" wg setconf wgtest0 "$2"
ip netns exec "$1" wg showconf wgtest0
' sh "$NS" "$2"
`

func TestWGSetconfAcceptsMarshal(t *testing.T) {
	needRootTools(t, "wg-quick", "wg", "wireguard-go", "ip", "unshare")
	c := fullConfig()
	stripped := wgQuickStrip(t, "wgp0", c.Marshal())
	file := filepath.Join(t.TempDir(), "stripped.conf")
	if err := os.WriteFile(file, stripped, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := fmt.Sprintf("h1-conf-%d", os.Getpid())
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "-c", setconfScript, "sh", ns, file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wg setconf/showconf: %v\n%s", err, stderr.Bytes())
	}
	if strings.Contains(string(out), "wgpunch") {
		t.Errorf("showconf has metadata?\n%s", out)
	}
	got, err := Parse("wgtest0", out)
	if err != nil {
		t.Fatalf("Parse(wg showconf): %v\n%s", err, out)
	}
	want := wgOnly(c)
	want.Name = "wgtest0"
	if diff := cmp.Diff(want, wgOnly(got), cmpOpts...); diff != "" {
		t.Errorf("wg showconf differs from what we wrote (-want +got):\n%s", diff)
	}
}
