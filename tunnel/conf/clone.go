package conf

import "slices"

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	n := *c
	in := &n.Interface
	in.Addresses = slices.Clone(in.Addresses)
	in.DNS = slices.Clone(in.DNS)
	in.DNSSearch = slices.Clone(in.DNSSearch)
	in.Meta.LANs = slices.Clone(in.Meta.LANs)
	in.Meta.SentInvites = slices.Clone(in.Meta.SentInvites)
	n.Peers = slices.Clone(c.Peers)
	for i := range n.Peers {
		p := &n.Peers[i]
		if p.PresharedKey != nil {
			k := *p.PresharedKey
			p.PresharedKey = &k
		}
		p.AllowedIPs = slices.Clone(p.AllowedIPs)
		p.Meta.LANs = slices.Clone(p.Meta.LANs)
		p.Meta.ReachAs = slices.Clone(p.Meta.ReachAs)
		p.Meta.ServeAs = slices.Clone(p.Meta.ServeAs)
	}
	return &n
}

// Redacted returns a deep copy of c without secrets: the PrivateKey is zero
// and every PresharedKey nil. Use it for anything that leaves the daemon
// (IPC answers, logs, the GUI).
func (c *Config) Redacted() *Config {
	n := c.Clone()
	if n == nil {
		return nil
	}
	n.Interface.PrivateKey = [32]byte{}
	for i := range n.Peers {
		n.Peers[i].PresharedKey = nil
	}
	return n
}
