package control

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Settings are the user-changeable daemon-wide settings. The daemon's
// Group (who may change tunnels) is deliberately not among them: it is
// set only by editing settings.json as root.
type Settings struct {
	// STUNServers are the HOST:PORT STUN servers NAT checks use. Empty
	// means DefaultSTUNServers.
	STUNServers []string `json:"stun_servers"`
	// DefaultSTUNServers are the built-in servers (natcheck.DefaultServers).
	// Read-only: SetSettings ignores it.
	DefaultSTUNServers []string `json:"default_stun_servers"`
}

// MaxSTUNServers is the most STUN servers SetSettings accepts.
const MaxSTUNServers = 8

// DefaultSTUNPort is the port a STUN server given without one gets.
const DefaultSTUNPort = 3478

// NormalizeSTUNServers checks a list of STUN servers (HOST:PORT, or HOST
// for port 3478; IPv6 in brackets) and returns them in canonical form,
// without blanks and duplicates. The error wraps ErrInvalidInput and says
// which entry is wrong and how to write it.
func NormalizeSTUNServers(in []string) ([]string, error) {
	var out []string
	for _, raw := range in {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		ep, err := parseSTUNServer(s)
		if err != nil {
			return nil, invalidf("STUN server %q: %v; write HOST:PORT or HOST (port %d), e.g. stun.example.org:3478 or [2001:db8::1]:3478", s, err, DefaultSTUNPort)
		}
		if v := ep.String(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) > MaxSTUNServers {
		return nil, invalidf("%d STUN servers given, but at most %d are allowed; remove some", len(out), MaxSTUNServers)
	}
	return out, nil
}

func parseSTUNServer(s string) (conf.Endpoint, error) {
	if strings.ContainsAny(s, " \t,/") {
		return conf.Endpoint{}, fmt.Errorf("it contains a space, comma or slash (give one server per entry, no URL)")
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		// No port: a bare hostname, IPv4 or [IPv6]; add the default.
		host := s
		if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1]
		} else if strings.Contains(host, ":") {
			// "host:", or IPv6 without brackets; let ParseEndpoint explain.
			return parseEndpointMsg(s)
		}
		return parseEndpointMsg(net.JoinHostPort(host, fmt.Sprint(DefaultSTUNPort)))
	}
	return parseEndpointMsg(s)
}

// parseEndpointMsg drops conf's "endpoint %q: " prefix, since the caller
// already names the server.
func parseEndpointMsg(s string) (conf.Endpoint, error) {
	ep, err := conf.ParseEndpoint(s)
	if err != nil {
		msg := err.Error()
		if p := fmt.Sprintf("endpoint %q: ", s); strings.HasPrefix(msg, p) {
			msg = strings.TrimPrefix(msg, p)
		}
		return conf.Endpoint{}, fmt.Errorf("%s", msg)
	}
	return ep, nil
}

// Settings returns the STUN servers saved in settings.json and the
// built-in defaults.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	set, err := s.st.LoadSettings()
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return &Settings{
		STUNServers:        slices.Clone(set.STUNServers),
		DefaultSTUNServers: slices.Clone(natcheck.DefaultServers),
	}, nil
}

// SetSettings validates and saves the STUN servers (empty: the defaults),
// keeping the rest of settings.json (Group) as it is. Nothing is saved if
// any entry is wrong.
func (s *Service) SetSettings(ctx context.Context, in Settings) error {
	servers, err := NormalizeSTUNServers(in.STUNServers)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlockSt, err := s.st.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlockSt()
	set, err := s.st.LoadSettings()
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	set.STUNServers = servers
	if err := s.st.SaveSettings(set); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	s.opts.Logf("STUN servers set to %v", servers)
	return nil
}
