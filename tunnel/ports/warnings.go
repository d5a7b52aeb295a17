package ports

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// CodePortShared is the Warning code for every warning Warnings returns.
const CodePortShared = "port-shared"

// PeerEndpoint is the public endpoint one peer of one of our tunnels has.
type PeerEndpoint struct {
	Tunnel   string // our tunnel's name
	Peer     string // the peer's name
	Endpoint string // IP:port
}

// Warnings finds listen ports that are shared where they must not be:
//   - another machine on this LAN (from lan; our own announcements, as
//     self.Owns tells them, are skipped: by installation ID, by host name
//     only for announcements without one) listens on the same port as one
//     of our tunnels: behind one NAT they fight over the public port;
//   - two of our tunnels use the same port: only one can be up;
//   - two peers of one tunnel have the same public IP:port: they are two
//     machines behind one NAT on the same port, and only one can get through.
//
// The result maps our tunnel names to their warnings (code "port-shared"),
// each naming the machines or tunnels and the port. For the first two
// kinds FixPort is suggest()'s port (suggest may be nil or return 0 when
// there is none) and the message says "switch to port N"; the third kind
// has to be fixed on the peers' side, so FixPort is 0. Tunnels without
// warnings are not in the map. Port 0 (not chosen yet) never conflicts.
func Warnings(self lanpeers.Self, local []LocalTunnel, lan []lanpeers.Announcement, peers []PeerEndpoint,
	suggest func() uint16) map[string][]monitor.Warning {
	out := map[string][]monitor.Warning{}
	add := func(tunnel string, w monitor.Warning) {
		if !slices.Contains(out[tunnel], w) {
			out[tunnel] = append(out[tunnel], w)
		}
	}
	var fix uint16
	asked := false
	fixPort := func() uint16 {
		if !asked && suggest != nil {
			fix = suggest()
		}
		asked = true
		return fix
	}
	switchTo := func() string {
		if p := fixPort(); p != 0 {
			return fmt.Sprintf("switch to port %d", p)
		}
		return "switch this tunnel to another port"
	}

	// Another machine on the LAN uses one of our ports.
	for _, t := range local {
		if t.Port == 0 {
			continue
		}
		for _, a := range lan {
			if a.Port != t.Port || self.Owns(a) {
				continue
			}
			msg := fmt.Sprintf("Tunnel %q uses UDP port %d, and so does %s on this network (its tunnel %q). "+
				"Behind one router two machines on the same port disturb each other's connections; %s.",
				t.Name, t.Port, machine(a, self.Host), a.Tunnel, switchTo())
			add(t.Name, monitor.Warning{Code: CodePortShared, Message: msg, FixPort: fixPort()})
		}
	}

	// Two of our tunnels use the same port.
	for i, t := range local {
		if t.Port == 0 {
			continue
		}
		for j, u := range local {
			if i == j || u.Port != t.Port || u.Name == t.Name {
				continue
			}
			msg := fmt.Sprintf("Tunnels %q and %q both use UDP port %d, so only one of them can be up at a time; %s.",
				t.Name, u.Name, t.Port, switchTo())
			add(t.Name, monitor.Warning{Code: CodePortShared, Message: msg, FixPort: fixPort()})
		}
	}

	// Two peers of one tunnel share a public endpoint.
	type key struct {
		tunnel string
		ep     netip.AddrPort
	}
	byEndpoint := map[key][]string{}
	var order []key
	for _, p := range peers {
		ep, err := netip.ParseAddrPort(strings.TrimSpace(p.Endpoint))
		if err != nil || ep.Port() == 0 {
			continue
		}
		k := key{p.Tunnel, netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())}
		if _, ok := byEndpoint[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(byEndpoint[k], p.Peer) {
			byEndpoint[k] = append(byEndpoint[k], p.Peer)
		}
	}
	for _, k := range order {
		names := byEndpoint[k]
		if len(names) < 2 {
			continue
		}
		msg := fmt.Sprintf("Peers %s of tunnel %q all have the public address %s: they are machines behind one router "+
			"using the same UDP port %d, so only one of them can get through. Ask all but one of them to switch "+
			"their tunnel to another port and send a new reply.",
			quoteList(names), k.tunnel, k.ep, k.ep.Port())
		add(k.tunnel, monitor.Warning{Code: CodePortShared, Message: msg})
	}
	return out
}

// machine names the other side of an announcement: host and address, and
// says so when it has our host name.
func machine(a lanpeers.Announcement, selfHost string) string {
	switch {
	case a.Host != "" && a.Host == selfHost && a.Addr.IsValid():
		return fmt.Sprintf("another machine named %q like this one (%s)", a.Host, a.Addr)
	case a.Host != "" && a.Host == selfHost:
		return fmt.Sprintf("another machine named %q like this one", a.Host)
	case a.Host != "" && a.Addr.IsValid():
		return fmt.Sprintf("%q (%s)", a.Host, a.Addr)
	case a.Host != "":
		return fmt.Sprintf("%q", a.Host)
	case a.Addr.IsValid():
		return a.Addr.String()
	}
	return "another machine"
}

// quoteList renders ["a" "b" "c"] as `"a", "b" and "c"`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
