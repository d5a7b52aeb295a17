package xvfbtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWizardNATCheckIPv6: the machine also has a global IPv6 address
// (2001:db8::7 on the lab namespace's loopback) and two STUN
// servers answer on it. The wizard's NAT-check step must show the IPv6
// half: the screenshot (docs/screenshots/wizard-3-nat-ipv6.png with
// WGPUNCH_SHOTS) is looked at by a person; the test checks that the
// daemon's check behind that page found IPv6 ok at that address.
func TestWizardNATCheckIPv6(t *testing.T) {
	l := newLab(t)
	const six = "2001:db8::7"
	l.ns_(t, "ip", "-6", "addr", "add", six+"/128", "dev", "lo", "nodad")
	servers := []string{"127.0.0.1:3478", "127.0.0.1:3479"}
	for _, port := range []int{3480, 3481} {
		addr := fmt.Sprintf("[%s]:%d", six, port)
		pc, err := listenInNetns(l.ns, addr)
		if err != nil {
			t.Fatalf("STUN server %s: %v", addr, err)
		}
		t.Cleanup(func() { pc.Close() })
		go serveSTUN(pc, nil)
		servers = append(servers, addr)
	}
	settings := fmt.Sprintf(`{"stun_servers": ["%s"]}`, strings.Join(servers, `", "`))
	if err := os.WriteFile(filepath.Join(l.stateDir, "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	var r struct {
		IPv6 struct {
			PublicEndpoint string `json:"public_endpoint"`
			Verdict        string `json:"verdict"`
		} `json:"ipv6"`
	}
	out := l.cli(t, "natcheck", "--json", "--port", "51899")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("natcheck --json: %v\n%s", err, out)
	}
	if r.IPv6.Verdict != "ok" || r.IPv6.PublicEndpoint != fmt.Sprintf("[%s]:51899", six) {
		t.Fatalf("the lab's IPv6 half: %+v, want ok at [%s]:51899", r.IPv6, six)
	}

	l.app(t)
	main := l.window(t, "WG Punch", 60*time.Second)
	l.key(t, main, "ctrl+n")
	wiz := l.window(t, "Link another computer", 10*time.Second)
	l.key(t, wiz, "Tab", "space")
	l.key(t, wiz, "alt+n")
	l.settle(t, wiz, settleLimit)
	l.key(t, wiz, "alt+n")
	l.settle(t, wiz, 30*time.Second)
	p := l.shotWindow(t, wiz, "wizard-3-nat-ipv6")
	t.Logf("screenshot: %s", p)
}
