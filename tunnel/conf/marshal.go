package conf

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

const marshalHeader = `# WireGuard tunnel managed by WG Punch (wgpunch).
# Lines starting with "# wgpunch." are WG Punch's own data; wg-quick ignores them.
`

// Marshal returns the tunnel as a wg-quick file, including the PrivateKey,
// PresharedKeys and the "# wgpunch.Key = value" metadata comments, in a
// fixed order. Parse(c.Name, c.Marshal()) returns a Config equal to c when c
// passes Validate. The output is accepted by wg-quick.
func (c *Config) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(marshalHeader)
	c.write(&b, true, true)
	return b.Bytes()
}

// MarshalExport returns the tunnel for stock WireGuard tools (wg-quick, the
// WireGuard apps): no WG Punch metadata, peer names as plain comments. Unless
// withPrivateKey is true, the PrivateKey and PresharedKeys are left out and a
// comment says how to add them.
func (c *Config) MarshalExport(withPrivateKey bool) []byte {
	var b bytes.Buffer
	b.WriteString("# WireGuard configuration exported by WG Punch.\n")
	if !withPrivateKey {
		b.WriteString("# The private key is not included: add it before using this file.\n")
	}
	c.write(&b, false, withPrivateKey)
	return b.Bytes()
}

func (c *Config) write(b *bytes.Buffer, meta, secrets bool) {
	in := &c.Interface
	b.WriteString("[Interface]\n")
	if meta {
		m := &in.Meta
		metaLine(b, "DisplayName", textOrEmpty(m.DisplayName))
		metaLine(b, "Subnet", prefixOrEmpty(m.Subnet))
		metaLine(b, "LANs", joinPrefixes(m.LANs))
		metaLine(b, "NATMapping", m.NATMapping)
		metaLine(b, "NATVerdict", m.NATVerdict)
		metaLine(b, "PendingInviteID", m.PendingInviteID)
		metaLine(b, "PendingPeerAddress", prefixOrEmpty(m.PendingPeerAddress))
		metaLine(b, "SentInvites", strings.ToLower(strings.Join(m.SentInvites, ", ")))
		metaLine(b, "PublicEndpoint", m.PublicEndpoint.String())
	}
	if secrets {
		if in.PrivateKey != (wgtypes.Key{}) {
			fmt.Fprintf(b, "PrivateKey = %s\n", in.PrivateKey)
		}
	} else {
		name := c.Name
		if name == "" {
			name = "NAME"
		}
		fmt.Fprintf(b, "# PrivateKey = <not exported: paste this machine's private key here, or run 'wgpunch export --private-key %s'>\n", name)
	}
	if in.ListenPort != 0 {
		fmt.Fprintf(b, "ListenPort = %d\n", in.ListenPort)
	}
	if len(in.Addresses) > 0 {
		fmt.Fprintf(b, "Address = %s\n", joinPrefixes(in.Addresses))
	}
	if len(in.DNS)+len(in.DNSSearch) > 0 {
		var items []string
		for _, d := range in.DNS {
			items = append(items, d.String())
		}
		items = append(items, in.DNSSearch...)
		fmt.Fprintf(b, "DNS = %s\n", strings.Join(items, ", "))
	}
	if in.MTU != 0 {
		fmt.Fprintf(b, "MTU = %d\n", in.MTU)
	}
	for i := range c.Peers {
		p := &c.Peers[i]
		b.WriteString("\n")
		if !meta && p.Meta.Name != "" {
			fmt.Fprintf(b, "# Peer: %s\n", quoteText(p.Meta.Name))
		}
		b.WriteString("[Peer]\n")
		if meta {
			m := &p.Meta
			metaLine(b, "Name", textOrEmpty(m.Name))
			metaLine(b, "InviteID", m.InviteID)
			metaLine(b, "LANEndpoint", m.LANEndpoint.String())
			metaLine(b, "LANs", joinPrefixes(m.LANs))
			metaLine(b, "ReachAs", joinAliases(m.ReachAs))
			metaLine(b, "ServeAs", joinAliases(m.ServeAs))
			metaLine(b, "NATMapping", m.NATMapping)
			metaLine(b, "NATVerdict", m.NATVerdict)
			metaLine(b, "SafetyCode", m.SafetyCode)
			if m.UpdateSeq != 0 {
				metaLine(b, "UpdateSeq", strconv.FormatUint(m.UpdateSeq, 10))
			}
			metaLine(b, "Endpoint4", m.Endpoint4.String())
			metaLine(b, "Endpoint6", m.Endpoint6.String())
		}
		if p.PublicKey != (wgtypes.Key{}) {
			fmt.Fprintf(b, "PublicKey = %s\n", p.PublicKey)
		}
		if p.PresharedKey != nil {
			if secrets {
				fmt.Fprintf(b, "PresharedKey = %s\n", *p.PresharedKey)
			} else {
				b.WriteString("# PresharedKey = <not exported: it is secret like the private key>\n")
			}
		}
		if len(p.AllowedIPs) > 0 {
			fmt.Fprintf(b, "AllowedIPs = %s\n", joinPrefixes(p.AllowedIPs))
		}
		if !p.Endpoint.IsZero() {
			fmt.Fprintf(b, "Endpoint = %s\n", p.Endpoint)
		}
		if p.PersistentKeepalive != 0 {
			fmt.Fprintf(b, "PersistentKeepalive = %d\n", p.PersistentKeepalive)
		}
	}
}

func metaLine(b *bytes.Buffer, key, value string) {
	if value != "" {
		fmt.Fprintf(b, "# %s%s = %s\n", metaPrefix, key, value)
	}
}

func textOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return quoteText(s)
}

func prefixOrEmpty(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

func joinPrefixes(ps []netip.Prefix) string {
	items := make([]string, len(ps))
	for i, p := range ps {
		items[i] = p.String()
	}
	return strings.Join(items, ", ")
}
