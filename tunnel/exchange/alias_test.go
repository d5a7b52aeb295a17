package exchange

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// office is one side of a two-office link: its facts (a LAN on eth0) and
// the LAN it shares.
func officeFacts(lan string, cfgs ...*conf.Config) *Facts {
	f := facts(cfgs...)
	f.Routes = []netinfo.Route{{Prefix: pfx(lan), Iface: "eth0"}}
	n := 0
	f.IntN = func(k int) int { n += 37; return n % k } // varied but repeatable
	return f
}

// link runs the whole exchange through the tokens: A invites from fa
// sharing lanA, B accepts on fb sharing lanB, A takes the reply. It
// returns both new configs, or the first error.
type linkResult struct {
	a, b     *conf.Config
	inv      *invite.Invite
	reply    *invite.Reply
	accept   *AcceptPlan
	finish   *ReplyPlan
	acceptOK error
}

func runLink(t *testing.T, fa *Facts, lanA []netip.Prefix, fb *Facts, lanB []netip.Prefix) (linkResult, error) {
	t.Helper()
	ip, err := fa.PlanInvite(Request{Name: "officeb", DisplayName: "Office A", LANs: lanA, NewKey: key(40), NewID: "00112233aabbccdd"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ip.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "203.0.113.1", Port: ip.Config.Interface.ListenPort}, LAN: conf.Endpoint{Host: "192.168.1.10", Port: 51820}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := invite.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	var res linkResult
	res.inv = m.Invite
	ap, err := fb.PlanAcceptInvite(Request{Name: "officea", DisplayName: "Office B", LANs: lanB, NewKey: key(48)}, m.Invite)
	if err != nil {
		return res, err
	}
	res.accept = ap
	cfgB, reply, err := ap.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "198.51.100.2", Port: 51820}, LAN: conf.Endpoint{Host: "192.168.1.20", Port: 51820}})
	if err != nil {
		t.Fatal(err)
	}
	rtok, err := reply.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rm, err := invite.Decode(rtok)
	if err != nil {
		t.Fatal(err)
	}
	res.reply, res.b = rm.Reply, cfgB
	fa.Configs = append(fa.Configs, ip.Config)
	rp, err := fa.PlanAcceptReply("", rm.Reply, false)
	if err != nil {
		return res, err
	}
	res.finish, res.a = rp, rp.Config
	return res, nil
}

var lan1 = []netip.Prefix{pfx("192.168.1.0/24")}

// TestTwoOfficesSameLAN: both offices use 192.168.1.0/24. Each reaches the
// other's LAN through an alias, and the two configs point at each other:
// what A reaches B's LAN as is what B serves it as, and the other way.
func TestTwoOfficesSameLAN(t *testing.T) {
	res, err := runLink(t, officeFacts("192.168.1.0/24"), lan1, officeFacts("192.168.1.0/24"), lan1)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := res.a.Peers[len(res.a.Peers)-1], res.b.Peers[0] // A's peer B, B's peer A
	if len(pa.Meta.ReachAs) != 1 || len(pb.Meta.ReachAs) != 1 {
		t.Fatalf("ReachAs: A %v, B %v; want one alias each", pa.Meta.ReachAs, pb.Meta.ReachAs)
	}
	if !cmp.Equal(pa.Meta.ReachAs, pb.Meta.ServeAs, cmpOpts) || !cmp.Equal(pb.Meta.ReachAs, pa.Meta.ServeAs, cmpOpts) {
		t.Errorf("the configs do not match: A reaches %v, B serves %v; B reaches %v, A serves %v", pa.Meta.ReachAs, pb.Meta.ServeAs, pb.Meta.ReachAs, pa.Meta.ServeAs)
	}
	aAlias, bAlias := pa.Meta.ReachAs[0], pb.Meta.ReachAs[0]
	if !res.inv.AliasPool.Contains(aAlias.As.Addr()) {
		t.Errorf("A reaches B's LAN as %s, outside the pool %s A offered", aAlias.As, res.inv.AliasPool)
	}
	for _, a := range []conf.LANAlias{aAlias, bAlias} {
		if a.LAN != lan1[0] || a.As.Bits() != 24 || a.As.Overlaps(lan1[0]) || !pfx("10.0.0.0/8").Contains(a.As.Addr()) {
			t.Errorf("alias %s: want 192.168.1.0/24 as a free 10.x.y.0/24", a)
		}
		// The host numbers stay: .50 is .50 in the alias.
		if got := a.Translate(netip.MustParseAddr("192.168.1.50")).As4()[3]; got != 50 {
			t.Errorf("alias %s moves host .50 to .%d", a, got)
		}
	}
	// AllowedIPs carry the alias, not the LAN; Meta.LANs keeps the LAN.
	if want := []netip.Prefix{netip.PrefixFrom(res.inv.InviteeAddress.Addr(), 32), aAlias.As}; !cmp.Equal(pa.AllowedIPs, want, cmpOpts) {
		t.Errorf("A's peer AllowedIPs %v, want %v", pa.AllowedIPs, want)
	}
	if want := []netip.Prefix{netip.PrefixFrom(res.inv.InviterAddress.Addr(), 32), bAlias.As}; !cmp.Equal(pb.AllowedIPs, want, cmpOpts) {
		t.Errorf("B's peer AllowedIPs %v, want %v", pb.AllowedIPs, want)
	}
	if !cmp.Equal(pa.Meta.LANs, lan1, cmpOpts) || !cmp.Equal(pb.Meta.LANs, lan1, cmpOpts) {
		t.Errorf("Meta.LANs %v / %v, want the real LAN", pa.Meta.LANs, pb.Meta.LANs)
	}
	// Both sides say it, with the commands for other office computers.
	for side, s := range map[string]string{"A": strings.Join(res.finish.Routing.AliasLines(), " "), "B": strings.Join(res.accept.Routing.AliasLines(), " ")} {
		for _, want := range []string{"is reached here as 10.", "a device at 192.168.1.50 there is 10.", "sudo ip route add 10.", "route -p add 10.", "mask 255.255.255.0", "reaches your 192.168.1.0/24 as 10."} {
			if !strings.Contains(s, want) {
				t.Errorf("%s's summary %q lacks %q", side, s, want)
			}
		}
	}
	if a, b := strings.Join(res.finish.Routing.AliasLines(), " "), strings.Join(res.accept.Routing.AliasLines(), " "); !strings.Contains(a, "via 192.168.1.10") || !strings.Contains(b, "via 192.168.1.20") {
		t.Errorf("the route commands do not name this machine's LAN address: %q / %q", a, b)
	}
	if s := res.finish.Routing.Summary(); !strings.Contains(s, "192.168.1.0/24 under an alias") {
		t.Errorf("summary %q does not say the LAN is under an alias", s)
	}
	if res.finish.Code.KeysOnly || res.finish.Code != res.accept.Code {
		t.Errorf("codes %v / %v: want the same exchange code", res.finish.Code, res.accept.Code)
	}
	// Stable: the configs store the aliases; written and read back they are
	// the same (restart, re-apply).
	for _, c := range []*conf.Config{res.a, res.b} {
		back, err := conf.Parse(c.Name, c.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.Peers, back.Peers, cmpOpts); diff != "" {
			t.Errorf("%s after write and read (-want +got):\n%s", c.Name, diff)
		}
	}
}

// TestAliasesStable: a re-invite on the tunnel (one more peer) and a
// re-issued invite keep the aliases agreed, and a new link on the same
// machine picks aliases apart from them.
func TestAliasesStable(t *testing.T) {
	fa, fb := officeFacts("192.168.1.0/24"), officeFacts("192.168.1.0/24")
	res, err := runLink(t, fa, lan1, fb, lan1)
	if err != nil {
		t.Fatal(err)
	}
	before := res.a.Clone()
	fa.Configs = []*conf.Config{res.a}
	ip, err := fa.PlanInvite(Request{Name: "officeb", NewID: "99887766aabbccdd"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ip.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "203.0.113.1", Port: 51820}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before.Peers, ip.Config.Peers, cmpOpts); diff != "" {
		t.Errorf("re-invite changed the peers (-want +got):\n%s", diff)
	}
	// The pool of the new invite is apart from the alias in use.
	m, _ := invite.Decode(ip.Config.Interface.Meta.SentInvites[0])
	if m.Invite.AliasPool.Overlaps(res.a.Peers[0].Meta.ReachAs[0].As) {
		t.Errorf("new pool %s overlaps the alias in use %s", m.Invite.AliasPool, res.a.Peers[0].Meta.ReachAs[0].As)
	}
	// Re-issuing the same pending invite keeps its pool.
	ip.Config.Interface.Meta.PendingInviteID = ip.ID
	fa.Configs = []*conf.Config{ip.Config}
	again, err := fa.PlanInvite(Request{Name: "officeb", NewID: "ffffffffffffffff"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Pool != m.Invite.AliasPool {
		t.Errorf("re-issued invite has pool %s, the first copy %s", again.Pool, m.Invite.AliasPool)
	}
	// B links a second office on 192.168.1.0/24: its alias differs from
	// the first one's.
	fb.Configs = []*conf.Config{res.b}
	fc := officeFacts("192.168.1.0/24")
	fc.IntN = func(k int) int { return k * 3 / 4 } // another tunnel subnet than A's
	ip2, err := fc.PlanInvite(Request{Name: "officeb", DisplayName: "Office C", LANs: lan1, NewKey: key(56), NewID: "0011223344556677"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := ip2.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "203.0.113.3", Port: 51820}})
	m2, _ := invite.Decode(tok)
	ap, err := fb.PlanAcceptInvite(Request{Name: "officec", LANs: lan1, NewKey: key(64)}, m2.Invite)
	if err != nil {
		t.Fatal(err)
	}
	if len(ap.reach) != 1 || ap.reach[0].As.Overlaps(res.b.Peers[0].Meta.ReachAs[0].As) {
		t.Errorf("second office's alias %v overlaps the first's %v", ap.reach, res.b.Peers[0].Meta.ReachAs)
	}
}

// TestAliasForOtherOverlaps: a LAN of the other side that overlaps a
// route here, another peer's LAN or the tunnel subnet is aliased too; one
// that overlaps nothing is routed as it is.
func TestAliasForOtherOverlaps(t *testing.T) {
	other := home() // tunnel "home": subnet 10.9.8.0/24, peer bob
	other.Peers[0].AllowedIPs = append(other.Peers[0].AllowedIPs, pfx("172.20.0.0/24"))
	other.Peers[0].Meta.LANs = []netip.Prefix{pfx("172.20.0.0/24")}
	for _, tt := range []struct {
		name  string
		lanA  string
		alias bool
	}{
		{"a route here", "192.168.1.0/24", true},
		{"a wider route here", "192.168.1.128/25", true},
		{"another peer's LAN", "172.20.0.0/24", true},
		{"another tunnel's subnet", "10.9.8.0/24", true},
		{"nothing", "192.168.77.0/24", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fb := officeFacts("192.168.1.0/24", other.Clone())
			res, err := runLink(t, officeFacts("192.168.50.0/24"), []netip.Prefix{pfx(tt.lanA)}, fb, nil)
			if err != nil {
				t.Fatal(err)
			}
			pb := res.b.Peers[0]
			if got := len(pb.Meta.ReachAs) == 1; got != tt.alias {
				t.Fatalf("B's ReachAs %v, want alias %v", pb.Meta.ReachAs, tt.alias)
			}
			reached := pb.Meta.ReachedAs(pfx(tt.lanA))
			if tt.alias {
				if _, bad := OverlapsAny(reached, fb.aliasAvoid()); bad {
					t.Errorf("alias %s overlaps something on B", reached)
				}
				// A serves it, and routes nothing new for it.
				pa := res.a.Peers[len(res.a.Peers)-1]
				if !cmp.Equal(pa.Meta.ServeAs, pb.Meta.ReachAs, cmpOpts) || len(pa.Meta.ReachAs) != 0 {
					t.Errorf("A's peer ServeAs %v ReachAs %v, want ServeAs %v", pa.Meta.ServeAs, pa.Meta.ReachAs, pb.Meta.ReachAs)
				}
			} else if reached != pfx(tt.lanA) || len(res.reply.ReachAs) != 0 {
				t.Errorf("reached as %s, reply ReachAs %v: want the LAN itself, no alias", reached, res.reply.ReachAs)
			}
		})
	}
	// The inviter side: B's LAN overlaps A's tunnel subnet.
	t.Run("inviter: B's LAN overlaps the tunnel subnet", func(t *testing.T) {
		// A's tunnel subnet is the first one PickSubnet gives with these facts.
		sub, _ := officeFacts("192.168.50.0/24").PickSubnet([]netip.Prefix{pfx("192.168.50.0/24")})
		lanB := netip.PrefixFrom(sub.Addr(), 25)
		res, err := runLink(t, officeFacts("192.168.50.0/24"), nil, officeFacts("192.168.60.0/24"), []netip.Prefix{lanB})
		if err != nil {
			t.Fatal(err)
		}
		if res.inv.Subnet != sub {
			t.Fatalf("A's subnet %s, want %s", res.inv.Subnet, sub)
		}
		pa := res.a.Peers[len(res.a.Peers)-1]
		if len(pa.Meta.ReachAs) != 1 || pa.Meta.ReachAs[0].LAN != lanB || !res.inv.AliasPool.Contains(pa.Meta.ReachAs[0].As.Addr()) {
			t.Errorf("A's peer ReachAs %v, want B's LAN as an alias in %s", pa.Meta.ReachAs, res.inv.AliasPool)
		}
		if !cmp.Equal(res.b.Peers[0].Meta.ServeAs, pa.Meta.ReachAs, cmpOpts) {
			t.Errorf("B serves %v, A reaches %v", res.b.Peers[0].Meta.ServeAs, pa.Meta.ReachAs)
		}
	})
}

// TestAliasRefusals: without the fields (an older WG Punch on either side),
// for a LAN wider than /16, or when an offer lies outside the pool (a
// forged reply), the overlap is refused as before aliases, and nothing is
// saved.
func TestAliasRefusals(t *testing.T) {
	t.Run("old invite without a pool", func(t *testing.T) {
		inv := testInvite() // no AliasPool
		inv.LANs = lan1
		_, err := officeFacts("192.168.1.0/24").PlanAcceptInvite(Request{Name: "work", NewKey: key(8)}, inv)
		if kindOf(err) != Invalid || !strings.Contains(err.Error(), "runs a WG Punch without LAN aliases") || !strings.Contains(err.Error(), "Nothing was saved") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("LAN wider than /16", func(t *testing.T) {
		_, err := runLink(t, officeFacts("192.168.50.0/24"), []netip.Prefix{pfx("172.16.0.0/12")}, officeFacts("172.20.0.0/16"), nil)
		if kindOf(err) != Invalid || !strings.Contains(err.Error(), "wider than /16 cannot be reached through an alias") {
			t.Errorf("error %v", err)
		}
	})
	// The inviter gets a reply without offers (an older WG Punch there).
	fa := officeFacts("192.168.1.0/24")
	ip, err := fa.PlanInvite(Request{Name: "officeb", LANs: lan1, NewKey: key(40), NewID: "00112233aabbccdd"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ip.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "203.0.113.1", Port: 51820}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := invite.Decode(tok)
	fa.Configs = []*conf.Config{ip.Config}
	saved := ip.Config.Marshal()
	reply := func(edit func(*invite.Reply)) *invite.Reply {
		r := &invite.Reply{Name: "Office B", PublicKey: key(48).PublicKey(), Endpoint: conf.Endpoint{Host: "198.51.100.2", Port: 51820}, LANs: lan1}
		r.Answer(m.Invite)
		edit(r)
		return r
	}
	pool := m.Invite.AliasPool
	inPoolAlias := inPool(lan1[0], pool)
	for _, tt := range []struct {
		name string
		r    *invite.Reply
		want string
	}{
		{"old reply without the fields", reply(func(*invite.Reply) {}), "runs a WG Punch without LAN aliases"},
		{"forged offer outside the pool", reply(func(r *invite.Reply) {
			r.Offers = []conf.LANAlias{{LAN: lan1[0], As: pfx("10.0.5.0/24")}}
			if pool.Contains(pfx("10.0.5.0/24").Addr()) {
				r.Offers[0].As = pfx("10.255.5.0/24")
			}
		}), "outside the alias pool " + pool.String()},
		{"alias for a LAN A does not share", reply(func(r *invite.Reply) {
			r.Offers = []conf.LANAlias{{LAN: lan1[0], As: inPoolAlias}}
			r.ReachAs = []conf.LANAlias{{LAN: pfx("192.168.9.0/24"), As: pfx("10.3.9.0/24")}}
		}), "does not share 192.168.9.0/24"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fa.PlanAcceptReply("", tt.r, false)
			if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "still waits for a reply") {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if string(fa.Configs[0].Marshal()) != string(saved) {
				t.Error("the stored config changed")
			}
		})
	}
	// The honest reply with an offer in the pool is taken.
	p, err := fa.PlanAcceptReply("", reply(func(r *invite.Reply) { r.Offers = []conf.LANAlias{{LAN: lan1[0], As: inPoolAlias}} }), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Config.Peers[0].Meta.ReachAs; len(got) != 1 || got[0].As != inPoolAlias {
		t.Errorf("ReachAs %v, want %s", got, inPoolAlias)
	}
}

func TestRouteCommands(t *testing.T) {
	got := RouteCommands(pfx("10.201.1.0/24"), netip.MustParseAddr("192.168.1.10"))
	want := []string{
		"Linux: sudo ip route add 10.201.1.0/24 via 192.168.1.10",
		"Windows: route -p add 10.201.1.0 mask 255.255.255.0 192.168.1.10",
		"on your router: a static route to 10.201.1.0/24 via 192.168.1.10",
	}
	if !cmp.Equal(got, want) {
		t.Errorf("RouteCommands = %q, want %q", got, want)
	}
	a := conf.LANAlias{LAN: pfx("192.168.1.0/24"), As: pfx("10.201.1.0/24")}
	if s := AliasExample("Office B", a); s != "Office B's 192.168.1.0/24 is reached here as 10.201.1.0/24: a device at 192.168.1.50 there is 10.201.1.50 here" {
		t.Errorf("AliasExample = %q", s)
	}
	small := conf.LANAlias{LAN: pfx("192.168.1.64/27"), As: pfx("10.201.1.64/27")}
	if s := AliasExample("Office B", small); !strings.Contains(s, "192.168.1.65 there is 10.201.1.65") {
		t.Errorf("AliasExample(/27) = %q, want the first host", s)
	}
}
