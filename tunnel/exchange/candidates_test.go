package exchange

import (
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

func cep(s string) conf.Endpoint {
	e, err := conf.ParseEndpoint(s)
	if err != nil {
		panic(err)
	}
	return e
}

// A report whose IPv6 half can link directly at ep6 ("" for none).
func rep6(pub4, ep6 string) *natcheck.Report {
	r := &natcheck.Report{PublicEndpoint: pub4, Mapping: natcheck.MappingEndpointIndependent,
		IPv4: natcheck.Family{Verdict: natcheck.VerdictOK}, Verdict: natcheck.VerdictOK}
	if pub4 == "" {
		r.IPv4.Verdict, r.Verdict = natcheck.VerdictFail, natcheck.VerdictFail
	}
	if ep6 != "" {
		r.IPv6 = natcheck.IPv6Report{PublicEndpoint: ep6, Mapping: natcheck.MappingNone, Verdict: natcheck.VerdictOK}
		r.Verdict = natcheck.VerdictOK
	}
	return r
}

func TestFoundEndpointIPv6(t *testing.T) {
	lan := cep("192.168.1.10:51820")
	for _, tt := range []struct {
		name        string
		checkPort   uint16
		rep         *natcheck.Report
		want, want6 string
		note        string
		wantVerdict string
		wantWatched string
	}{
		{"both families", 51820, rep6("198.51.100.1:51820", "[2001:db8:1::5]:51820"), "198.51.100.1:51820", "[2001:db8:1::5]:51820", "", "ok", "198.51.100.1:51820"},
		{"IPv4 only", 51820, rep6("198.51.100.1:51820", ""), "198.51.100.1:51820", "", "", "ok", "198.51.100.1:51820"},
		{"IPv6 only: the endpoint", 51820, rep6("", "[2001:db8:1::5]:51820"), "[2001:db8:1::5]:51820", "", "invite carries the IPv6 address", "ok", ""},
		// A machine with a public IPv4 address on its interface: the LAN
		// endpoint is the public one, and both families stay.
		{"no NAT: public IPv4 is the LAN address", 51820, rep6("192.168.1.10:51820", "[2001:db8:1::5]:51820"), "192.168.1.10:51820", "[2001:db8:1::5]:51820", "", "ok", "192.168.1.10:51820"},
		{"tunnel up: IPv6 gets the tunnel's port", 40000, rep6("198.51.100.1:40000", "[2001:db8:1::5]:40000"), "198.51.100.1:40000", "[2001:db8:1::5]:51820", "", "ok", "198.51.100.1:40000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rep.PublicEndpoint == "" {
				tt.rep.Message = "no IPv4 answer (test)"
			}
			a, err := FoundEndpoint("home", 51820, tt.checkPort, lan, tt.rep, nil)
			if err != nil {
				t.Fatal(err)
			}
			got6 := ""
			if !a.Endpoint6.IsZero() {
				got6 = a.Endpoint6.String()
			}
			if a.Endpoint.String() != tt.want || got6 != tt.want6 {
				t.Errorf("endpoints %s and %q, want %s and %q", a.Endpoint, got6, tt.want, tt.want6)
			}
			if notes := strings.Join(a.Notes, "\n"); tt.note != "" && !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
			if _, v := a.natFields(); v != tt.wantVerdict {
				t.Errorf("announced verdict %q, want %q", v, tt.wantVerdict)
			}
			w := a.watched()
			if (w.IsZero() && tt.wantWatched != "") || (!w.IsZero() && w.String() != tt.wantWatched) {
				t.Errorf("watched %v, want %q", w, tt.wantWatched)
			}
		})
	}
	// IPv4 symmetric, no IPv6: IPv4's fail is announced, not the overall.
	r := rep6("198.51.100.1:51820", "")
	r.IPv4.Verdict, r.Verdict = natcheck.VerdictFail, natcheck.VerdictFail
	a, err := FoundEndpoint("home", 51820, 51820, lan, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, v := a.natFields(); v != "fail" {
		t.Errorf("verdict %q, want fail", v)
	}
	// IPv4 symmetric, IPv6 fine: the overall ok is announced with it.
	r = rep6("198.51.100.1:51820", "[2001:db8:1::5]:51820")
	r.IPv4.Verdict = natcheck.VerdictFail
	if a, _ = FoundEndpoint("home", 51820, 51820, lan, r, nil); a.Endpoint6.IsZero() {
		t.Fatal("no IPv6 endpoint")
	}
	if _, v := a.natFields(); v != "ok" {
		t.Errorf("verdict %q, want the overall ok beside an IPv6 endpoint", v)
	}
}

func TestGivenEndpoints(t *testing.T) {
	lan := cep("192.168.1.10:51820")
	for _, tt := range []struct {
		raw         string
		want, want6 string
		err         string
	}{
		{"203.0.113.7:51820", "203.0.113.7:51820", "", ""},
		{"[2001:db8::7]:51820", "[2001:db8::7]:51820", "", ""},
		{"203.0.113.7:51820,[2001:db8::7]:51820", "203.0.113.7:51820", "[2001:db8::7]:51820", ""},
		{"[2001:db8::7]:51820, myhome.example.org:51820", "myhome.example.org:51820", "[2001:db8::7]:51820", ""},
		{"203.0.113.7:51820,198.51.100.1:51820", "", "", "two endpoints for IPv4 or host name (203.0.113.7:51820 and 198.51.100.1:51820)"},
		{"[2001:db8::7]:51820,[2001:db8::8]:51820", "", "", "two endpoints for IPv6"},
		{"203.0.113.7:51820,nope", "", "", `endpoint "nope"`},
		{" , ", "", "", "no endpoint given"},
	} {
		a, err := GivenEndpoint(tt.raw, 51820, lan)
		if tt.err != "" {
			if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("GivenEndpoint(%q) = %v, want Invalid with %q", tt.raw, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("GivenEndpoint(%q): %v", tt.raw, err)
			continue
		}
		got6 := ""
		if !a.Endpoint6.IsZero() {
			got6 = a.Endpoint6.String()
		}
		if a.Endpoint.String() != tt.want || got6 != tt.want6 || a.LAN != lan {
			t.Errorf("GivenEndpoint(%q) = %s, %q, %s; want %s, %q", tt.raw, a.Endpoint, got6, a.LAN, tt.want, tt.want6)
		}
	}
}

func TestPrefer6(t *testing.T) {
	v4, v6, ours6 := cep("203.0.113.5:51820"), cep("[2001:db8:5::1]:51820"), cep("[2001:db8:9::1]:51820")
	if ep, n := prefer6("carol", v4, v6, ours6, true); ep != v6 || !strings.Contains(n, "over IPv6 at [2001:db8:5::1]:51820") {
		t.Errorf("both have IPv6, IPv4 doubtful: %s %q, want IPv6 with a note", ep, n)
	}
	if ep, n := prefer6("carol", v4, v6, ours6, false); ep != v4 || n != "" {
		t.Errorf("both have IPv6, IPv4 fine: %s %q, want IPv4 (no fallback yet), no note", ep, n)
	}
	if ep, n := prefer6("carol", v4, v6, conf.Endpoint{}, true); ep != v4 || n != "" {
		t.Errorf("we have no IPv6: %s %q, want IPv4, no note", ep, n)
	}
	if ep, n := prefer6("carol", v4, conf.Endpoint{}, ours6, true); ep != v4 || n != "" {
		t.Errorf("they have no IPv6: %s %q, want IPv4, no note", ep, n)
	}
	if ep, n := prefer6("carol", v6, v6, ours6, true); ep != v6 || n != "" {
		t.Errorf("IPv6 already: %s %q, want no note", ep, n)
	}
}

// Accepting an invite with every candidate: the reply carries ours, and
// the peer is reached over IPv6 when both have it, over the LAN when
// both share a public IPv4.
func TestPlanAcceptInviteCandidates(t *testing.T) {
	for _, tt := range []struct {
		name    string
		addrs   Addresses
		wantEP  string
		mapping string // the invite's NAT mapping
	}{
		{"both IPv6, IPv4 fine: IPv4", Addresses{Endpoint: cep("198.51.100.9:51820"), Endpoint6: cep("[2001:db8:9::1]:51820"), NAT: rep6("198.51.100.9:51820", "[2001:db8:9::1]:51820")}, "203.0.113.5:51820", ""},
		{"both IPv6, our NAT symmetric: IPv6", Addresses{Endpoint: cep("198.51.100.9:51820"), Endpoint6: cep("[2001:db8:9::1]:51820"), NAT: func() *natcheck.Report {
			r := rep6("198.51.100.9:51820", "[2001:db8:9::1]:51820")
			r.Mapping, r.IPv4.Verdict = natcheck.MappingEndpointDependent, natcheck.VerdictFail
			return r
		}()}, "[2001:db8:5::1]:51820", ""},
		{"both IPv6, their NAT symmetric: IPv6", Addresses{Endpoint: cep("198.51.100.9:51820"), Endpoint6: cep("[2001:db8:9::1]:51820"), NAT: rep6("198.51.100.9:51820", "[2001:db8:9::1]:51820")}, "[2001:db8:5::1]:51820", "endpoint-dependent"},
		{"both IPv6, we have no public IPv4: IPv6", Addresses{Endpoint: cep("[2001:db8:9::1]:51820"), NAT: rep6("", "[2001:db8:9::1]:51820")}, "[2001:db8:5::1]:51820", ""},
		{"no IPv6 here: IPv4", Addresses{Endpoint: cep("198.51.100.9:51820"), NAT: rep6("198.51.100.9:51820", "")}, "203.0.113.5:51820", ""},
		{"one NAT: LAN beats IPv6", Addresses{Endpoint: cep("203.0.113.5:51821"), Endpoint6: cep("[2001:db8:9::1]:51821"), LAN: cep("192.168.50.9:51821"), NAT: rep6("203.0.113.5:51821", "[2001:db8:9::1]:51821")}, "192.168.50.5:51820", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInvite()
			inv.Endpoint6 = cep("[2001:db8:5::1]:51820")
			inv.NATMapping, inv.NATVerdict = tt.mapping, ""
			if tt.mapping != "" {
				inv.NATVerdict = "ok"
			}
			p, err := facts().PlanAcceptInvite(Request{Name: "work", NewKey: key(8)}, inv)
			if err != nil {
				t.Fatal(err)
			}
			cfg, reply, err := p.Finish(&tt.addrs)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Peers[0].Endpoint.String(); got != tt.wantEP {
				t.Errorf("peer endpoint %s, want %s (notes %q)", got, tt.wantEP, p.Notes)
			}
			if reply.Endpoint != tt.addrs.Endpoint || reply.Endpoint6 != tt.addrs.Endpoint6 || reply.LANEndpoint != tt.addrs.LAN {
				t.Errorf("reply carries %v %v %v, want %v %v %v", reply.Endpoint, reply.Endpoint6, reply.LANEndpoint, tt.addrs.Endpoint, tt.addrs.Endpoint6, tt.addrs.LAN)
			}
			// Whichever was chosen, every candidate is kept.
			m := cfg.Peers[0].Meta
			if m.Endpoint4 != inv.Endpoint || m.Endpoint6 != inv.Endpoint6 || m.LANEndpoint != inv.LANEndpoint {
				t.Errorf("peer keeps %v %v %v, want %v %v %v", m.Endpoint4, m.Endpoint6, m.LANEndpoint, inv.Endpoint, inv.Endpoint6, inv.LANEndpoint)
			}
			want := "ipv6 [2001:db8:5::1]:51820, ipv4 203.0.113.5:51820"
			if strings.HasPrefix(tt.name, "one NAT") {
				want = "lan 192.168.50.5:51820, " + want
			}
			if got := candText(conf.Candidates(cfg, &cfg.Peers[0])); got != want {
				t.Errorf("candidates %s, want %s", got, want)
			}
		})
	}
}

func candText(cs []conf.Candidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+" "+c.Addr.String())
	}
	return strings.Join(out, ", ")
}
