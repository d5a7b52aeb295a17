package lab

import (
	"fmt"
	"strings"
	"time"
)

// NAT is how an office router translates.
type NAT int

const (
	// NATHome is MASQUERADE: keeps the source port when it can and maps a
	// socket to the same public port for every destination
	// (endpoint-independent), with a stateful firewall on the WAN.
	NATHome NAT = iota
	// NATSymmetric is MASQUERADE --random-fully: a new random public port
	// for every destination (endpoint-dependent).
	NATSymmetric
)

// Internet is the namespace between the offices, with the STUN servers.
type Internet struct {
	lab  *Lab
	NS   string
	stun *Proc
	next int // next free host number on 203.0.113.0/24
}

// Office is a router namespace with a LAN bridge and hosts behind it.
type Office struct {
	lab    *Lab
	Name   string
	Router string // namespace
	WAN    string // router's public address, 203.0.113.N
	LANNet string // e.g. 192.168.1.0/24
	LANGW  string // e.g. 192.168.1.1
	n      int    // office number: 192.168.n.0/24
	Hosts  []*Host
}

// Internet creates the internet namespace: a bridge that router WANs plug
// into (203.0.113.254/24) and coturn answering STUN on two addresses.
func (l *Lab) Internet() *Internet {
	l.t.Helper()
	ns := l.AddNS("inet")
	l.MustNS(ns, "ip", "link", "add", "br0", "type", "bridge")
	l.MustNS(ns, "ip", "addr", "add", inetGateway+"/24", "dev", "br0")
	l.MustNS(ns, "ip", "link", "set", "br0", "up")
	for _, ip := range []string{stunIP1, stunIP2} {
		l.MustNS(ns, "ip", "addr", "add", ip+"/32", "dev", "lo")
	}
	in := &Internet{lab: l, NS: ns, next: 1}
	in.startSTUN()
	return in
}

// startSTUN runs coturn in STUN-only mode on both STUN addresses, reading
// no configuration file and logging to its own log.
func (in *Internet) startSTUN() {
	l := in.lab
	l.t.Helper()
	in.stun = l.Start("coturn", "ip", "netns", "exec", in.NS,
		"turnserver", "-n", "--stun-only",
		"-L", stunIP1, "-L", stunIP2, "-p", fmt.Sprint(stunPort),
		"--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
		"--log-file", "stdout", "--simple-log", "--no-software-attribute",
		"--pidfile", l.Dir+"/turnserver.pid", "--userdb", l.Dir+"/turndb")
	_, err := waitFor(10*time.Second, 100*time.Millisecond, func() (bool, string) {
		if !in.stun.Running() {
			return false, "coturn exited: " + tail(in.stun.Output(), 20)
		}
		out, _ := l.InNS(in.NS, "ss", "-Hulnp")
		for _, ip := range []string{stunIP1, stunIP2} {
			if !strings.Contains(out, fmt.Sprintf("%s:%d", ip, stunPort)) {
				return false, "coturn not listening on " + ip + ": " + out
			}
		}
		return true, ""
	})
	if err != nil {
		l.t.Fatalf("start coturn: %v", err)
	}
}

// addr returns the next free internet address.
func (in *Internet) addr() string {
	in.next++
	return fmt.Sprintf("203.0.113.%d", in.next-1)
}

// plug connects namespace ns to the internet bridge with a veth whose end
// in ns is called ifname, and gives it addr/24 and a default route.
func (in *Internet) plug(ns, ifname, addr string) {
	l := in.lab
	l.t.Helper()
	port := fmt.Sprintf("p%d", in.next)
	l.MustNS(in.NS, "ip", "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", ns)
	l.MustNS(in.NS, "ip", "link", "set", port, "master", "br0", "up")
	l.MustNS(ns, "ip", "addr", "add", addr+"/24", "dev", ifname)
	l.MustNS(ns, "ip", "link", "set", ifname, "up")
	l.MustNS(ns, "ip", "route", "add", "default", "via", inetGateway)
}

// Office creates router namespace "r"+name with WAN on the internet and a
// LAN 192.168.n.0/24 on bridge lan0, translating per nat.
func (in *Internet) Office(name string, n int, nat NAT) *Office {
	l := in.lab
	l.t.Helper()
	o := &Office{
		lab:    l,
		Name:   name,
		Router: l.AddNS("r" + name),
		WAN:    in.addr(),
		LANNet: fmt.Sprintf("192.168.%d.0/24", n),
		LANGW:  fmt.Sprintf("192.168.%d.1", n),
		n:      n,
	}
	r := o.Router
	in.plug(r, "wan0", o.WAN)
	// LAN bridge; multicast snooping off so mDNS floods between hosts.
	l.MustNS(r, "ip", "link", "add", "lan0", "type", "bridge", "mcast_snooping", "0")
	l.MustNS(r, "ip", "addr", "add", o.LANGW+"/24", "dev", "lan0")
	l.MustNS(r, "ip", "link", "set", "lan0", "up")
	l.MustNS(r, "sysctl", "-qw", "net.ipv4.ip_forward=1")

	masq := []string{"iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"}
	if nat == NATSymmetric {
		masq = append(masq, "--random-fully")
	}
	l.MustNS(r, masq...)
	// A home router's stateful firewall: nothing unsolicited gets in from
	// the WAN, neither to the LAN nor to the router itself.
	for _, chain := range []string{"INPUT", "FORWARD"} {
		l.MustNS(r, "iptables", "-A", chain, "-i", "wan0", "-m", "conntrack",
			"--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
		l.MustNS(r, "iptables", "-A", chain, "-i", "wan0", "-j", "DROP")
	}
	return o
}

// DirectHost creates a host with its address directly on the internet (no NAT).
func (in *Internet) DirectHost(name string) *Host {
	l := in.lab
	l.t.Helper()
	ns := l.AddNS(name)
	addr := in.addr()
	in.plug(ns, "eth0", addr)
	return l.newHost(name, name, ns, addr)
}

// Host creates a host namespace on the office LAN at 192.168.n.(10+i),
// with hostname name.
func (o *Office) Host(name string) *Host { return o.HostNamed(name, name) }

// HostNamed is Host with another hostname than the lab's name for it (two
// hosts may share one, as two Raspberry Pis called raspberrypi do).
func (o *Office) HostNamed(name, hostname string) *Host {
	o.lab.t.Helper()
	return o.hostAt(name, hostname, 10+len(o.Hosts))
}

// HostAt creates a host on the office LAN at host number n (192.168.n.50
// for 50), which no other host of the office may have.
func (o *Office) HostAt(name string, n int) *Host {
	o.lab.t.Helper()
	return o.hostAt(name, name, n)
}

func (o *Office) hostAt(name, hostname string, n int) *Host {
	l := o.lab
	l.t.Helper()
	ns := l.AddNS(name)
	addr := fmt.Sprintf("192.168.%d.%d", o.n, n)
	port := fmt.Sprintf("h%d", len(o.Hosts))
	l.MustNS(o.Router, "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.MustNS(o.Router, "ip", "link", "set", port, "master", "lan0", "up")
	l.MustNS(ns, "ip", "addr", "add", addr+"/24", "dev", "eth0")
	l.MustNS(ns, "ip", "link", "set", "eth0", "up")
	l.MustNS(ns, "ip", "route", "add", "default", "via", o.LANGW)
	h := l.newHost(name, hostname, ns, addr)
	o.Hosts = append(o.Hosts, h)
	return h
}

// BlockUDP makes the router drop (or stop dropping) all outbound UDP.
func (o *Office) BlockUDP(block bool) {
	o.lab.t.Helper()
	op := "-I"
	if !block {
		op = "-D"
	}
	o.lab.MustNS(o.Router, "iptables", op, "FORWARD", "-i", "lan0", "-o", "wan0", "-p", "udp", "-j", "DROP")
}

// Reboot simulates routers restarting at the same time: all forwarding
// stops for down, and their connection tracking (so every NAT mapping and
// punched hole) is forgotten.
func Reboot(down time.Duration, offices ...*Office) {
	for _, o := range offices {
		o.lab.MustNS(o.Router, "iptables", "-I", "FORWARD", "1", "-j", "DROP")
		o.lab.MustNS(o.Router, "conntrack", "-F")
	}
	time.Sleep(down)
	for _, o := range offices {
		o.lab.MustNS(o.Router, "conntrack", "-F")
		o.lab.MustNS(o.Router, "iptables", "-D", "FORWARD", "1")
	}
}

// Conntrack lists the router's UDP connection tracking entries.
func (o *Office) Conntrack() string {
	out, _ := o.lab.InNS(o.Router, "conntrack", "-L", "-p", "udp")
	return out
}

// ChangeWAN gives the router a new WAN address from the internet, as a
// home router gets after a reboot or when its lease runs out: the old
// address goes, the new one comes, and connection tracking (every NAT
// mapping and punched hole) is forgotten. It returns the new address.
func (o *Office) ChangeWAN(in *Internet) string {
	l := o.lab
	l.t.Helper()
	next := in.addr()
	l.MustNS(o.Router, "ip", "addr", "del", o.WAN+"/24", "dev", "wan0")
	l.MustNS(o.Router, "ip", "addr", "add", next+"/24", "dev", "wan0")
	l.MustNS(o.Router, "ip", "route", "replace", "default", "via", inetGateway)
	l.MustNS(o.Router, "conntrack", "-F")
	o.WAN = next
	return next
}

// InputAccept makes the router accept unsolicited WAN packets to itself,
// as many real routers do for some ports: a packet from the internet to
// the router's own address then leaves a connection-tracking entry behind
// (tailscale#20910). Forwarding to the LAN stays closed.
func (o *Office) InputAccept() {
	o.lab.t.Helper()
	o.lab.MustNS(o.Router, "iptables", "-D", "INPUT", "-i", "wan0", "-j", "DROP")
}
