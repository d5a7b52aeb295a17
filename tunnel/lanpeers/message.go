package lanpeers

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

const (
	// Service is the DNS-SD service type our announcements use.
	Service = "_wgpunch._udp"
	// serviceName is Service in the .local domain, fully qualified.
	serviceName = Service + ".local."
	// cacheFlush is the mDNS "unique record" bit of the class field.
	cacheFlush = 1 << 15
)

// record is one of our tunnels as it travels in a TXT record.
type record struct {
	ID      string // random per Discovery: tells us our own announcements
	Install string // the installation's ID (Options.Install); "" from older versions
	Host    string
	Tunnel  string
	Port    uint16
}

// instanceName is the DNS-SD service instance name of one tunnel:
// a readable label, unique per Discovery and tunnel.
func instanceName(r record) string {
	label := safeLabel(r.Host, 30) + "-" + safeLabel(r.Tunnel, 15) + "-" + r.ID
	return label + "." + serviceName
}

// hostName is the .local name the SRV records point to.
func hostName(host, id string) string {
	return safeLabel(host, 40) + "-" + id + ".local."
}

// safeLabel keeps letters, digits and '-' and cuts to max bytes.
func safeLabel(s string, max int) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= max {
			break
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// announceMsg builds an unsolicited mDNS response with PTR, SRV and TXT
// records for every tunnel, and A records for addrs. ttl 0 is a goodbye.
// The TXT record carries install= only when install is set, so without
// one the records are those of older versions; older receivers ignore it.
func announceMsg(id, install, host string, tunnels []LocalTunnel, addrs []netip.Addr, ttl time.Duration) *dns.Msg {
	secs := uint32(ttl / time.Second)
	m := new(dns.Msg)
	m.Response = true
	m.Authoritative = true
	target := hostName(host, id)
	for _, t := range tunnels {
		r := record{ID: id, Install: install, Host: host, Tunnel: t.Name, Port: t.Port}
		inst := instanceName(r)
		txt := []string{"v=1", "id=" + id, "host=" + host, "tunnel=" + t.Name, "port=" + strconv.Itoa(int(t.Port))}
		if install != "" {
			txt = append(txt, "install="+install)
		}
		m.Answer = append(m.Answer,
			&dns.PTR{Hdr: dns.RR_Header{Name: serviceName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: secs}, Ptr: inst},
			&dns.SRV{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeSRV, Class: dns.ClassINET | cacheFlush, Ttl: secs},
				Target: target, Port: t.Port},
			&dns.TXT{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeTXT, Class: dns.ClassINET | cacheFlush, Ttl: secs},
				Txt: txt},
		)
	}
	for _, a := range addrs {
		if a.Is4() {
			m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: target, Rrtype: dns.TypeA, Class: dns.ClassINET | cacheFlush, Ttl: secs},
				A: a.AsSlice()})
		}
	}
	return m
}

// queryMsg asks everybody on the link for our service.
func queryMsg() *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	return m
}

// asksForUs reports whether a query has a question our records answer.
func asksForUs(m *dns.Msg) bool {
	if m.Response {
		return false
	}
	for _, q := range m.Question {
		if strings.EqualFold(q.Name, serviceName) && (q.Qtype == dns.TypePTR || q.Qtype == dns.TypeANY) {
			return true
		}
	}
	return false
}

// parsedRecord is a record found in a response and its TTL.
type parsedRecord struct {
	record
	TTL time.Duration
}

// parseResponse extracts our TXT records from an mDNS response. Records
// that are incomplete or not ours are skipped.
func parseResponse(m *dns.Msg) []parsedRecord {
	if !m.Response {
		return nil
	}
	var out []parsedRecord
	for _, rr := range append(append([]dns.RR(nil), m.Answer...), m.Extra...) {
		txt, ok := rr.(*dns.TXT)
		if !ok || !strings.HasSuffix(strings.ToLower(txt.Hdr.Name), "."+serviceName) {
			continue
		}
		r, ok := parseTXT(txt.Txt)
		if !ok {
			continue
		}
		out = append(out, parsedRecord{record: r, TTL: time.Duration(txt.Hdr.Ttl) * time.Second})
	}
	return out
}

// parseTXT reads id=, install=, host=, tunnel= and port= from TXT strings.
func parseTXT(kvs []string) (record, bool) {
	var r record
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "id":
			r.ID = v
		case "install":
			r.Install = v
		case "host":
			r.Host = v
		case "tunnel":
			r.Tunnel = v
		case "port":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return record{}, false
			}
			r.Port = uint16(p)
		}
	}
	return r, r.ID != "" && r.Tunnel != "" && r.Port != 0
}
