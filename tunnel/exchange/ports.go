package exchange

import (
	"errors"
	"fmt"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/ports"
)

// CheckPort says whether tunnel self may use port: not 0, not another of
// our tunnels' port, and free on this machine unless self is up and
// already holds it. The note warns when another WG Punch machine on the
// LAN announces it.
func (f *Facts) CheckPort(port uint16, self string) (note string, err error) {
	if err := CheckPortNumber(port); err != nil {
		return "", err
	}
	for _, c := range f.Configs {
		if c.Name != self && c.Interface.ListenPort == port {
			return "", portErrf("port %d already belongs to tunnel %q on this machine; choose another port, or leave the port out and WG Punch picks a free one", port, c.Name)
		}
	}
	held := false
	if f.Running[self] {
		if c := f.config(self); c != nil && c.Interface.ListenPort == port {
			held = true
		}
	}
	if !held {
		if err := f.portBusy(port); err != nil {
			return "", portErrf("UDP port %d is %s; choose another port%s, or leave the port out and WG Punch picks a free one", port, ports.Reason(err), f.suggestFree())
		}
	}
	for _, a := range f.LANPeers {
		if a.Port == port {
			return fmt.Sprintf("%s on this LAN (%s) uses UDP port %d for WireGuard too; two machines behind one NAT should not share a port — consider another port", a.Host, a.Addr, port), nil
		}
	}
	return "", nil
}

// MinPort is the lowest port a tunnel listens on or a NAT check runs
// from: those below are reserved for system services.
const MinPort = 1024

// CheckPortNumber refuses port 0 as a tunnel's ListenPort (the other side
// must know where to send) and ports below MinPort (reserved for system
// services; the daemon could take one from them). The one home of the
// port rule: invite, accept, set-port and NAT check use it.
func CheckPortNumber(port uint16) error {
	if port == 0 {
		return invalidf("port 0 is not allowed: WG Punch needs a fixed port (%d-65535) for hole punching", MinPort)
	}
	if port < MinPort {
		return invalidf("port %d is not allowed: ports below %d are reserved for system services; pick one from %d to 65535, e.g. 51820", port, MinPort, MinPort)
	}
	return nil
}

// CheckUpPort says whether tunnel name may come up on port: no other
// tunnel of ours that is up uses it, and no other program holds it.
func (f *Facts) CheckUpPort(name string, port uint16) error {
	for _, c := range f.Configs {
		if c.Name != name && c.Interface.ListenPort == port && f.Running[c.Name] {
			return portErrf("tunnel %q uses port %d too and is up; give one of them another port: wgpunch set-port %s PORT", c.Name, port, name)
		}
	}
	if port == 0 {
		return nil
	}
	if err := f.portBusy(port); err != nil {
		fix := "move the tunnel"
		if errors.Is(err, ports.ErrInUse) {
			fix = "stop that program or move the tunnel"
		}
		return portErrf("UDP port %d of tunnel %q is %s; %s: wgpunch set-port %s PORT%s — the other side must then be told the new port (send a new invite)", port, name, ports.Reason(err), fix, name, f.suggestFree())
	}
	return nil
}

// CheckCheckPort says whether a NAT check may run from port: it must be
// free here.
func (f *Facts) CheckCheckPort(port uint16) error {
	if err := CheckPortNumber(port); err != nil {
		return err
	}
	if err := f.portBusy(port); err != nil {
		return portErrf("UDP port %d is %s, so the check cannot run from it; leave --port out or pick another", port, ports.Reason(err))
	}
	return nil
}

// suggestFree is " (N is free)" for the error of a busy port, or "".
func (f *Facts) suggestFree() string {
	if p, err := f.PickPort(); err == nil {
		return fmt.Sprintf(" (%d is free)", p)
	}
	return ""
}

// PickPort chooses a free port not used by our tunnels or announced on the LAN.
func (f *Facts) PickPort() (uint16, error) {
	taken := map[uint16]bool{}
	for _, c := range f.Configs {
		taken[c.Interface.ListenPort] = true
	}
	for _, a := range f.LANPeers {
		taken[a.Port] = true
	}
	p, err := ports.PickUsable(func(p uint16) bool { return !taken[p] && f.portFree(p) })
	if err != nil {
		return 0, portErrf("%v", err) // ports says "no free UDP port found ..."
	}
	return p, nil
}

// ChoosePort is the ListenPort for a new tunnel: the requested one
// (checked), else the endpoint's port when it is free here, else a free one.
func (f *Facts) ChoosePort(req uint16, endpoint, self string) (uint16, string, error) {
	if req != 0 {
		n, err := f.CheckPort(req, self)
		return req, n, err
	}
	if eps := SplitEndpoints(endpoint); len(eps) > 0 {
		if ep, err := conf.ParseEndpoint(eps[0]); err == nil && ep.Port != 0 {
			if n, err := f.CheckPort(ep.Port, self); err == nil {
				return ep.Port, n, nil
			}
		}
	}
	p, err := f.PickPort()
	return p, "", err
}
