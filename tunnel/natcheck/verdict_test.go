package natcheck

import (
	"bufio"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJudge(t *testing.T) {
	const public1, public2 = "192.0.2.10:3478", "198.51.100.20:19302"
	locals := []netip.Addr{netip.MustParseAddr("192.168.1.5"), netip.MustParseAddr("127.0.0.1")}
	tests := []struct {
		name    string
		local   uint16
		answers []answer // server, mapped
		gateway string   // default gateway, "" for none
		extra   string   // one more address of this machine, "" for none
		want    summary
		inMsg   string
	}{{
		name:    "public address on an interface",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("192.168.1.5:51820")}, {server: ap(public2), mapped: ap("192.168.1.5:51820")}},
		want:    summary{"192.168.1.5:51820", MappingNone, true, false, false, VerdictOK},
		inMsg:   "No NAT",
	}, {
		name:    "no NAT is clear from one answer",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("192.168.1.5:51820")}},
		want:    summary{"192.168.1.5:51820", MappingNone, true, false, false, VerdictOK},
		inMsg:   "UDP port 51820",
	}, {
		name:    "local address but port changed: a NAT on this machine",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("192.168.1.5:6000")}, {server: ap(public2), mapped: ap("192.168.1.5:6000")}},
		want:    summary{"192.168.1.5:6000", MappingEndpointIndependent, false, false, false, VerdictOK},
	}, {
		name:    "port preserved",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("203.0.113.1:51820")}, {server: ap(public2), mapped: ap("203.0.113.1:51820")}},
		want:    summary{"203.0.113.1:51820", MappingEndpointIndependent, true, false, false, VerdictOK},
		inMsg:   "same public address 203.0.113.1:51820",
	}, {
		name:    "public server sees a private address: double NAT",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("10.0.0.9:51820")}, {server: ap(public2), mapped: ap("10.0.0.9:51820")}},
		want:    summary{"10.0.0.9:51820", MappingEndpointIndependent, true, false, false, VerdictWarning},
		inMsg:   "double NAT",
	}, {
		name:    "private server sees a private address: fine (a lab)",
		local:   51820,
		answers: []answer{{server: ap("10.99.0.1:3478"), mapped: ap("10.0.0.9:51820")}, {server: ap("10.99.0.2:3478"), mapped: ap("10.0.0.9:51820")}},
		want:    summary{"10.0.0.9:51820", MappingEndpointIndependent, true, false, false, VerdictOK},
	}, {
		name:    "CGNAT seen, symmetric mapping: the mapping decides",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("100.100.1.1:1024")}, {server: ap(public2), mapped: ap("100.100.1.1:1025")}},
		want:    summary{"100.100.1.1:1024", MappingEndpointDependent, false, false, true, VerdictFail},
		inMsg:   noPunch,
	}, {
		name:    "CGNAT seen by a public server, same port everywhere: a second NAT, not refused",
		local:   51820,
		answers: []answer{{server: ap(public1), mapped: ap("100.100.1.1:51820")}, {server: ap(public2), mapped: ap("100.100.1.1:51820")}},
		want:    summary{"100.100.1.1:51820", MappingEndpointIndependent, true, false, true, VerdictWarning},
		inMsg:   "That alone does not decide anything",
	}, {
		name:    "gateway in 100.64/10, endpoint-independent carrier NAT: ok, explained",
		local:   51820,
		gateway: "100.64.0.1",
		answers: []answer{{server: ap(public1), mapped: ap("203.0.113.1:40000")}, {server: ap(public2), mapped: ap("203.0.113.1:40000")}},
		want:    summary{"203.0.113.1:40000", MappingEndpointIndependent, false, false, true, VerdictOK},
		inMsg:   "gateway 100.64.0.1 is in the shared range",
	}, {
		name:    "a 100.64/10 address on this machine alone (Tailscale): not CGNAT",
		local:   51820,
		gateway: "192.168.1.1",
		extra:   "100.101.1.2",
		answers: []answer{{server: ap(public1), mapped: ap("203.0.113.1:51820")}, {server: ap(public2), mapped: ap("203.0.113.1:51820")}},
		want:    summary{"203.0.113.1:51820", MappingEndpointIndependent, true, false, false, VerdictOK},
		inMsg:   "hole punching will work",
	}, {
		name:    "server itself in 100.64/10: not CGNAT",
		local:   51820,
		answers: []answer{{server: ap("100.64.0.1:3478"), mapped: ap("100.100.1.1:51820")}, {server: ap("100.64.0.2:3478"), mapped: ap("100.100.1.1:51820")}},
		want:    summary{"100.100.1.1:51820", MappingEndpointIndependent, true, false, false, VerdictOK},
	}, {
		// A STUN server on the LAN (listed first) sees this machine's own
		// address; it is not behind the NAT, so it must neither become the
		// public endpoint nor make the NAT look symmetric.
		name:    "LAN server next to public ones",
		local:   51820,
		answers: []answer{{server: ap("192.168.1.1:3478"), mapped: ap("192.168.1.5:51820")}, {server: ap(public1), mapped: ap("203.0.113.1:51820")}, {server: ap(public2), mapped: ap("203.0.113.1:51820")}},
		want:    summary{"203.0.113.1:51820", MappingEndpointIndependent, true, false, false, VerdictOK},
		inMsg:   "same public address 203.0.113.1:51820",
	}, {
		name:    "LAN server next to one public one",
		local:   51820,
		answers: []answer{{server: ap("192.168.1.1:3478"), mapped: ap("192.168.1.5:51820")}, {server: ap(public1), mapped: ap("203.0.113.1:40000")}},
		want:    summary{"203.0.113.1:40000", MappingUnknown, false, false, false, VerdictWarning},
		inMsg:   "Only " + public1 + " answered",
	}, {
		name:    "LAN server next to a symmetric NAT",
		local:   51820,
		answers: []answer{{server: ap("192.168.1.1:3478"), mapped: ap("192.168.1.5:51820")}, {server: ap(public1), mapped: ap("203.0.113.1:40000")}, {server: ap(public2), mapped: ap("203.0.113.1:40001")}},
		want:    summary{"203.0.113.1:40000", MappingEndpointDependent, false, false, false, VerdictFail},
		inMsg:   "symmetric",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{LocalPort: tt.local}
			for i := range tt.answers {
				tt.answers[i].index = i
				r.Servers = append(r.Servers, ServerResult{Server: tt.answers[i].server.String()})
			}
			locals := locals
			if tt.extra != "" {
				locals = append(slices.Clone(locals), netip.MustParseAddr(tt.extra))
			}
			var gws []netip.Addr
			if tt.gateway != "" {
				gws = []netip.Addr{netip.MustParseAddr(tt.gateway)}
			}
			judge(r, tt.answers, locals)
			explainCarrier(r, tt.answers, locals, gws)
			if diff := cmp.Diff(tt.want, summarize(r)); diff != "" {
				t.Errorf("report (-want +got):\n%s\nmessage: %s", diff, r.Message)
			}
			if !strings.Contains(r.Message, tt.inMsg) {
				t.Errorf("message %q does not contain %q", r.Message, tt.inMsg)
			}
		})
	}
}

func TestParseRoutes(t *testing.T) {
	const routes = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0100A8C0	0003	0	0	100	00000000	0	0	0
eth0	0000A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
wwan0	00000000	014040 64	0003	0	0	200	00000000	0	0	0
wwan0	00000000	01004064	0003	0	0	200	00000000	0	0	0
`
	got := parseRoutes(bufio.NewScanner(strings.NewReader(routes)))
	want := []netip.Addr{netip.MustParseAddr("192.168.0.1"), netip.MustParseAddr("100.64.0.1")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("gateways (-want +got):\n%s", diff)
	}
}
