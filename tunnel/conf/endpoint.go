package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseEndpoint parses "IP:port", "[IPv6]:port" or "hostname:port". The port
// must be numeric and 1..65535; a hostname must be a syntactically valid DNS
// name (it is resolved when the tunnel comes up, which is how dynamic DNS
// works). Errors may quote s: endpoints are not secret.
func ParseEndpoint(s string) (Endpoint, error) {
	if s == "" {
		return Endpoint{}, errors.New("endpoint is empty: expected IP:port or hostname:port")
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return Endpoint{}, fmt.Errorf("endpoint %q: put an IPv6 address in brackets, like [2001:db8::1]:51820", s)
		}
		return Endpoint{}, fmt.Errorf("endpoint %q: expected IP:port, [IPv6]:port or hostname:port", s)
	}
	port, err := ParsePort(portStr)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: %v", s, err)
	}
	if host == "" {
		return Endpoint{}, fmt.Errorf("endpoint %q: the host is missing", s)
	}
	bracketed := strings.HasPrefix(s, "[")
	if ip, err := netip.ParseAddr(host); err == nil {
		if bracketed && !ip.Is6() {
			return Endpoint{}, fmt.Errorf("endpoint %q: only IPv6 addresses go in brackets", s)
		}
		if !validZone(ip.Zone()) {
			return Endpoint{}, fmt.Errorf("endpoint %q: bad IPv6 zone %q", s, ip.Zone())
		}
		// Canonical text, so equal endpoints compare equal as strings.
		return Endpoint{Host: ip.String(), Port: port}, nil
	}
	if bracketed {
		return Endpoint{}, fmt.Errorf("endpoint %q: %q in brackets is not an IPv6 address", s, host)
	}
	if err := validateHostname(host); err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: %v", s, err)
	}
	return Endpoint{Host: host, Port: port}, nil
}

// validZone accepts an empty zone or an interface name/index.
func validZone(z string) bool {
	if len(z) > 32 {
		return false
	}
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ParsePort parses a decimal UDP port 1..65535 (the one port rule: the
// config parser, endpoints and the command line use it).
func ParsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("the port is missing")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %s is out of range: use 1 to 65535", s)
	}
	return uint16(n), nil
}

// validateHostname checks host name syntax: RFC 1123 labels (letters,
// digits, inner hyphens; underscores are tolerated as DNS allows them), 1..63
// bytes each, 253 in total. A name whose last label is all digits is
// refused: resolvers would read it as a (mistyped) IPv4 address.
func validateHostname(h string) error {
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%q is not a valid host name", h)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a valid host name", h)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a valid host name or IP address", h)
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("%q is not a valid IP address", h)
	}
	return nil
}

// String returns host:port, with brackets around an IPv6 host; "" for the
// zero Endpoint.
func (e Endpoint) String() string {
	if e.IsZero() {
		return ""
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// IsZero reports whether e is the zero Endpoint (no endpoint).
func (e Endpoint) IsZero() bool { return e.Host == "" && e.Port == 0 }

// AddrPort returns the endpoint as an IP address and port; ok is false when
// the host is a DNS name (or e is zero).
func (e Endpoint) AddrPort() (ap netip.AddrPort, ok bool) {
	ip, err := netip.ParseAddr(e.Host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, e.Port), true
}

// validate checks an Endpoint built in code; the zero Endpoint is valid.
func (e Endpoint) validate() error {
	if e.IsZero() {
		return nil
	}
	got, err := ParseEndpoint(e.String())
	if err != nil {
		return err
	}
	if got != e {
		return fmt.Errorf("endpoint %q is not in canonical form", e.String())
	}
	return nil
}
