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
