package netinfo

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleRoutes = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0101A8C0	0003	0	0	100	00000000	0	0	0
eth0	0001A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
wg0	000A140A	00000000	0001	0	0	0	00FFFFFF	0	0	0
bad	zz	00000000	0001	0	0	0	00FFFFFF	0	0	0
short	0001A8C0
`

func TestParseProcRoutes(t *testing.T) {
	want := []Route{
		{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"},
		{Prefix: netip.MustParsePrefix("10.20.10.0/24"), Iface: "wg0"},
	}
	if diff := cmp.Diff(want, parseProcRoutes([]byte(sampleRoutes)), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("parseProcRoutes (-want +got):\n%s", diff)
	}
	if got := parseDefaultIface([]byte(sampleRoutes)); got != "eth0" {
		t.Errorf("parseDefaultIface = %q, want eth0", got)
	}
}

const sampleRoutes6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
fd7a0000000000000000000000000000 30 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 00000001     wg0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001     eth0
fd990000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 00000201     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
zz 40
`

// The IPv6 table gives subnets and routes, never the default route,
// link-local or multicast ranges, this machine's own addresses or reject
// routes.
func TestParseProcRoutes6(t *testing.T) {
	want := []Route{
		{Prefix: netip.MustParsePrefix("fd00::/64"), Iface: "eth0"},
		{Prefix: netip.MustParsePrefix("fd7a::/48"), Iface: "wg0"},
	}
	if diff := cmp.Diff(want, parseProcRoutes6([]byte(sampleRoutes6)), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("parseProcRoutes6 (-want +got):\n%s", diff)
	}
}
