package lab

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLabStockWireGuard proves the lab itself with stock tools only: two
// hosts behind two home NATs link with the Debian wireguard-go binary and
// wg, both using the interface name wg0 (private /var/run/wireguard each),
// traffic flows both ways, the tunnel recovers after both routers reboot,
// and unsolicited packets really are dropped by the routers.
func TestLabStockWireGuard(t *testing.T) {
	l := New(t)
	in := l.Internet()
	oa := in.Office("a", 1, NATHome)
	ob := in.Office("b", 2, NATHome)
	a := oa.Host("a1")
	b := ob.Host("b1")

	// The routers' firewalls drop what nobody asked for: b cannot reach
	// a's router from outside, but both reach the internet.
	if b.Ping(oa.WAN) {
		t.Fatalf("b1 can ping router a's WAN %s: the firewall lets unsolicited packets in", oa.WAN)
	}
	if !a.Ping(inetGateway) || !b.Ping(inetGateway) {
		t.Fatal("hosts cannot reach the internet namespace")
	}

	privA, pubA, err := genKey()
	if err != nil {
		t.Fatal(err)
	}
	privB, pubB, err := genKey()
	if err != nil {
		t.Fatal(err)
	}
	// Same ListenPort on both sides, as WG Punch uses; each side knows the
	// other's router address and the port its NAT preserves.
	ta, err := a.StockUp("wg0", stockConf(privA, 51820, pubB, ob.WAN+":51820", "10.99.0.2/32"),
		[]string{"10.99.0.1/24"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.StockUp("wg0", stockConf(privB, 51820, pubA, oa.WAN+":51820", "10.99.0.1/32"),
		[]string{"10.99.0.2/24"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := a.WaitPing("10.99.0.2", 20*time.Second); err != nil {
		t.Fatalf("tunnel never came up: %v\nrouter a conntrack:\n%s\nrouter b conntrack:\n%s", err, oa.Conntrack(), ob.Conntrack())
	} else {
		t.Logf("first ping through the stock tunnel after %v", d.Round(time.Millisecond))
	}
	if !b.Ping("10.99.0.1") {
		t.Fatal("b1 cannot ping a1 through the tunnel")
	}
	if err := TCPTransfer(a, b, "10.99.0.2", 5001, 256<<10); err != nil {
		t.Fatal(err)
	}
	if err := TCPTransfer(b, a, "10.99.0.1", 5002, 256<<10); err != nil {
		t.Fatal(err)
	}
	// Each host sees its own wg0 only.
	for _, h := range []*Host{a, b} {
		if got := h.UAPISockets(); !slices.Equal(got, []string{"wg0.sock"}) {
			t.Errorf("%s /var/run/wireguard = %v, want [wg0.sock]", h.Name, got)
		}
	}
	dumpA, err := a.WGShow("wg0")
	if err != nil || !strings.Contains(dumpA, pubB) {
		t.Errorf("wg show on a1: %v\n%s", err, dumpA)
	}
	if dumpB, _ := b.WGShow("wg0"); !strings.Contains(dumpB, pubA) {
		t.Errorf("wg show on b1 does not list a1's key:\n%s", dumpB)
	}

	// Both routers reboot: every mapping is gone; keepalives re-punch.
	Reboot(2*time.Second, oa, ob)
	d, err := a.WaitPing("10.99.0.2", 40*time.Second)
	if err != nil {
		t.Fatalf("stock tunnel did not recover after both routers rebooted: %v", err)
	}
	t.Logf("stock tunnel recovered %v after the routers came back", d.Round(time.Millisecond))

	for _, st := range []*StockTunnel{ta, tb} {
		if err := st.Down(); err != nil {
			t.Errorf("stop wireguard-go on %s: %v", st.Host.Name, err)
		}
		if got := st.Host.UAPISockets(); len(got) != 0 {
			t.Errorf("%s: UAPI sockets left after wireguard-go stopped: %v", st.Host.Name, got)
		}
		if links := st.Host.Links(); slices.Contains(links, "wg0") {
			t.Errorf("%s: wg0 left after wireguard-go stopped: %v", st.Host.Name, links)
		}
	}
}
