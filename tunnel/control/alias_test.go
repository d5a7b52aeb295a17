package control_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wgpunch/wgpunch/tunnel/invite"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// TestTwoOfficesStatus: two offices that both use 192.168.1.0/24 link up;
// each says how it reaches the other's LAN (the alias, an example address,
// the route commands), status --json lists the LAN with its alias, and no
// subnet-overlap warning remains for it.
func TestTwoOfficesStatus(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, true)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "officeb", DisplayName: "Office A", Endpoint: "198.51.100.1:51820", Port: 51820, LANs: []string{"192.168.1.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "officea", Token: inv.Token, DisplayName: "Office B", Endpoint: "203.0.113.9:51999", LANs: []string{"192.168.1.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	fin, err := a.Svc.Accept(ctx, AcceptRequest{Name: "officeb", Token: acc.Reply})
	if err != nil {
		t.Fatal(err)
	}
	for side, r := range map[string]*AcceptResult{"accepter": acc, "inviter": fin} {
		all := strings.Join(r.Aliases, "\n")
		if !strings.Contains(all, "192.168.1.0/24 is reached here as 10.") || !strings.Contains(all, "a device at 192.168.1.50 there is 10.") || !strings.Contains(all, "sudo ip route add 10.") || !strings.Contains(all, " via 192.168.1.10") {
			t.Errorf("%s's result does not explain the alias: %q", side, r.Aliases)
		}
		if acc.SafetyCode != fin.SafetyCode || acc.SafetyCode == "" {
			t.Errorf("safety codes %q / %q", acc.SafetyCode, fin.SafetyCode)
		}
	}
	for side, env := range map[string]*Env{"A": a, "B": b} {
		rep, err := env.Svc.Status(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		ts := rep.Tunnels[0]
		p := ts.Peers[0]
		if len(p.LANs) != 1 || p.LANs[0].Prefix != "192.168.1.0/24" || !strings.HasPrefix(p.LANs[0].ReachAs, "10.") || !strings.HasSuffix(p.LANs[0].ReachAs, "/24") {
			t.Errorf("%s: peer lans %+v, want 192.168.1.0/24 reached as a 10.x.y.0/24", side, p.LANs)
		}
		if len(p.ServeAs) != 1 {
			t.Errorf("%s: serve_as %+v, want the alias the other side uses", side, p.ServeAs)
		}
		if ts.LANAddress != "192.168.1.10" {
			t.Errorf("%s: lan_address %q, want 192.168.1.10", side, ts.LANAddress)
		}
		for _, w := range ts.Warnings {
			if strings.Contains(w.Message, "192.168.1.0/24") {
				t.Errorf("%s: warning %q for the aliased LAN", side, w.Message)
			}
		}
		js, _ := json.Marshal(rep)
		if !strings.Contains(string(js), `"lans":[{"prefix":"192.168.1.0/24","reach_as":"10.`) {
			t.Errorf("%s: status JSON lacks lans: %s", side, js)
		}
		s, cmds := AliasText(p.Name, p.LANs[0], ts.LANAddress)
		if !strings.Contains(s, "is reached here as "+p.LANs[0].ReachAs) || len(cmds) != 3 {
			t.Errorf("%s: AliasText = %q, %q", side, s, cmds)
		}
	}
	// Stable: bringing the link up (and again), and an address update from
	// the other side, keep the aliases; the running tunnel routes the alias.
	before := b.Load("officea").Peers[0]
	for range 2 {
		if err := b.Svc.Up(ctx, "officea"); err != nil {
			t.Fatal(err)
		}
	}
	alias := before.Meta.ReachAs[0].As
	if got := b.Eng.Config("officea").Peers[0].AllowedIPs; !containsPrefix(got, alias) || containsPrefix(got, netip.MustParsePrefix("192.168.1.0/24")) {
		t.Errorf("running AllowedIPs %v, want the alias %s and not the LAN", got, alias)
	}
	from := a.Load("officeb").Interface.PrivateKey
	up, err := invite.NewUpdate(from.PublicKey(), b.Load("officea").Interface.PrivateKey.PublicKey(), netip.MustParseAddrPort("198.51.100.77:51820"), time.Now()).Encode(from, b.Load("officea").Interface.PrivateKey.PublicKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Token: up}); err != nil {
		t.Fatal(err)
	}
	after := b.Load("officea").Peers[0]
	if after.Endpoint.String() != "198.51.100.77:51820" {
		t.Fatalf("update not taken: endpoint %s", after.Endpoint)
	}
	after.Endpoint = before.Endpoint
	after.Meta.Endpoint4 = before.Meta.Endpoint4 // the update moves the IPv4 candidate too
	after.Meta.UpdateSeq = before.Meta.UpdateSeq
	if diff := cmp.Diff(before, after, cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})); diff != "" {
		t.Errorf("the address update changed the peer (-before +after):\n%s", diff)
	}
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}
