package conf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// These tests feed Marshal's output to the real wireguard-tools. They need
// root (wg-quick re-executes itself with sudo otherwise) and are skipped
// without it; a missing tool fails, naming its Debian package.

func needRootTools(t *testing.T, tools ...string) {
	t.Helper()
	testutil.RequireRoot(t, "wg-quick and network namespaces require it")
	for _, tool := range tools {
		testutil.RequireTool(t, tool, debianPackage[tool])
	}
}

// debianPackage names the Debian package of each tool these tests run.
var debianPackage = map[string]string{
	"wg-quick":     "wireguard-tools",
	"wg":           "wireguard-tools",
	"wireguard-go": "wireguard-go",
	"ip":           "iproute2",
	"unshare":      "util-linux",
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

// setconfScript runs wireguard-go in a fresh network namespace ($1) with a
// private /run/wireguard, runs `wg setconf` on each further argument
// (printing "OK file" or "FAIL file") and finally prints "--- showconf" and
// `wg showconf`.
const setconfScript = `set -e
NS="$1"
shift
ip netns add "$NS"
trap 'ip netns del "$NS"' EXIT
unshare -m sh -c '
set -e
NS="$1"
shift
mount --make-rprivate /
mkdir -p /run/wireguard
mount -t tmpfs -o mode=0700 tmpfs /run/wireguard
WG_PROCESS_FOREGROUND=1 ip netns exec "$NS" wireguard-go -f wgtest0 >/dev/null 2>&1 &
PID=$!
trap "kill $PID 2>/dev/null; wait $PID 2>/dev/null || true" EXIT
for i in $(seq 100); do [ -S /run/wireguard/wgtest0.sock ] && break; sleep 0.05; done
for f in "$@"; do
	if ip netns exec "$NS" wg setconf wgtest0 "$f" 2>/dev/null; then echo "OK $f"; else echo "FAIL $f"; fi
done
echo "--- showconf"
ip netns exec "$NS" wg showconf wgtest0
' sh "$NS" "$@"
`

// runSetconf loads each file into a real wireguard-go device with `wg
// setconf` and returns which ones wg accepted and the final `wg showconf`.
func runSetconf(t *testing.T, files ...string) (accepted map[string]bool, showconf []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := fmt.Sprintf("h1-conf-%d", os.Getpid())
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", setconfScript, "sh", ns}, files...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wireguard-go/wg setconf: %v\n%s\n%s", err, out, stderr.Bytes())
	}
	results, show, ok := strings.Cut(string(out), "--- showconf\n")
	if !ok {
		t.Fatalf("no showconf in output:\n%s", out)
	}
	accepted = map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(results), "\n") {
		verdict, file, _ := strings.Cut(line, " ")
		accepted[file] = verdict == "OK"
	}
	return accepted, []byte(show)
}

func TestWGSetconfAcceptsMarshal(t *testing.T) {
	needRootTools(t, "wg-quick", "wg", "wireguard-go", "ip", "unshare")
	c := fullConfig()
	stripped := wgQuickStrip(t, "wgp0", c.Marshal())
	file := filepath.Join(t.TempDir(), "stripped.conf")
	if err := os.WriteFile(file, stripped, 0o600); err != nil {
		t.Fatal(err)
	}
	accepted, out := runSetconf(t, file)
	if !accepted[file] {
		t.Fatalf("wg setconf refused wg-quick strip of our file:\n%s", stripped)
	}
	got, err := Parse("wgtest0", out)
	if err != nil {
		t.Fatalf("Parse(wg showconf): %v\n%s", err, out)
	}
	want := wgOnly(c)
	want.Name = "wgtest0"
	// wireguard-go lists peers in no particular order; order carries no
	// meaning in a WireGuard config, so compare them sorted by key.
	byKey := func(cfg *Config) *Config {
		slices.SortFunc(cfg.Peers, func(a, b Peer) int { return bytes.Compare(a.PublicKey[:], b.PublicKey[:]) })
		return cfg
	}
	if diff := cmp.Diff(byKey(want), byKey(wgOnly(got)), cmpOpts...); diff != "" {
		t.Errorf("wg showconf differs from what we wrote (-want +got):\n%s", diff)
	}
}

// TestAtLeastAsStrictAsWG feeds variants of a file to the real `wg setconf`:
// whatever wg refuses, Parse must refuse too.
func TestAtLeastAsStrictAsWG(t *testing.T) {
	needRootTools(t, "wg", "wireguard-go", "ip", "unshare")
	base := fill("[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\n\n[Peer]\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32\nEndpoint = 127.0.0.1:5\nPersistentKeepalive = 5\n")
	key := privA.String()
	nonCanon := key[:42] + string(key[42]^1) + "="
	variants := map[string]string{
		"valid":                base,
		"port 65536":           strings.Replace(base, "ListenPort = 51820", "ListenPort = 65536", 1),
		"port -1":              strings.Replace(base, "ListenPort = 51820", "ListenPort = -1", 1),
		"port word":            strings.Replace(base, "ListenPort = 51820", "ListenPort = abc", 1),
		"key short":            strings.Replace(base, key, key[:40]+"=", 1),
		"key bad char":         strings.Replace(base, key, "!"+key[1:], 1),
		"key non-canonical":    strings.Replace(base, key, nonCanon, 1),
		"key no padding":       strings.Replace(base, key, key[:43]+"A", 1),
		"allowed /33":          strings.Replace(base, "10.0.0.2/32", "10.0.0.2/33", 1),
		"allowed 300":          strings.Replace(base, "10.0.0.2/32", "10.0.0.300/32", 1),
		"allowed empty elem":   strings.Replace(base, "10.0.0.2/32", "10.0.0.2/32,,10.0.0.3/32", 1),
		"allowed word":         strings.Replace(base, "10.0.0.2/32", "all", 1),
		"endpoint no port":     strings.Replace(base, "127.0.0.1:5", "127.0.0.1", 1),
		"endpoint v6 unclosed": strings.Replace(base, "127.0.0.1:5", "[::1:5", 1),
		"endpoint port 70000":  strings.Replace(base, "127.0.0.1:5", "127.0.0.1:70000", 1),
		"keepalive 65536":      strings.Replace(base, "PersistentKeepalive = 5", "PersistentKeepalive = 65536", 1),
		"keepalive -1":         strings.Replace(base, "PersistentKeepalive = 5", "PersistentKeepalive = -1", 1),
		"keepalive word":       strings.Replace(base, "PersistentKeepalive = 5", "PersistentKeepalive = often", 1),
		"unknown key":          strings.Replace(base, "ListenPort", "Foo = bar\nListenPort", 1),
		"outside section":      "ListenPort = 1\n" + base,
		"unknown section":      base + "[Foo]\n",
		"no equals":            strings.Replace(base, "ListenPort = 51820", "ListenPort 51820", 1),
		"peer without key":     strings.Replace(base, "PublicKey = "+pubB.String()+"\n", "", 1),
	}
	dir := t.TempDir()
	files := map[string]string{}
	var args []string
	for name, text := range variants {
		f := filepath.Join(dir, strings.NewReplacer(" ", "_", "/", "_").Replace(name)+".conf")
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		files[name] = f
		args = append(args, f)
	}
	sort.Strings(args)
	accepted, _ := runSetconf(t, args...)
	if !accepted[files["valid"]] {
		t.Fatalf("wg setconf refused the valid base file")
	}
	if accepted[files["key short"]] || accepted[files["unknown key"]] {
		t.Fatalf("wg setconf accepted a short key or an unknown key: the harness is not testing anything")
	}
	for name, text := range variants {
		_, err := Parse("wgtest0", []byte(text))
		wgOK := accepted[files[name]]
		switch {
		case !wgOK && err == nil:
			t.Errorf("%s: wg setconf refuses it but Parse accepts it:\n%s", name, text)
		case wgOK && err != nil && name != "valid":
			t.Logf("%s: wg accepts, we refuse (stricter): %v", name, err)
		case name == "valid" && err != nil:
			t.Errorf("valid: Parse: %v", err)
		}
	}
}
