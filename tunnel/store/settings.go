package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Settings are the daemon-wide settings in settings.json.
type Settings struct {
	// STUNServers are host:port STUN servers for NAT checks. Empty means the
	// built-in list (natcheck.DefaultServers).
	STUNServers []string `json:"stun_servers"`
	// Group is the Unix group whose members may control the daemon; empty
	// means only root.
	Group string `json:"group"`
	// RouterForgetSeconds is how long routers on the way keep an
	// unreplied UDP entry, for the stuck-router recovery (0: 30 s, Linux's
	// default; OpenWrt routers keep 60 s). Both computers of a link must
	// use the same value. Read when the daemon starts.
	RouterForgetSeconds int `json:"router_forget_seconds,omitempty"`
	// PathRetrySeconds is how often a link on a worse path (IPv4 while
	// the other side also has IPv6, say) briefly tries the better one
	// (0: 300 s). Both computers of a link must use the same value. Read
	// when the daemon starts.
	PathRetrySeconds int `json:"path_retry_seconds,omitempty"`
}

// Validate checks that server entries are non-empty single words and the
// group name has no spaces.
func (st Settings) Validate() error {
	for i, s := range st.STUNServers {
		if s == "" || strings.ContainsAny(s, " \t\r\n,") || len(s) > 260 {
			return fmt.Errorf("STUN server %d (%q) is not a host:port", i+1, s)
		}
	}
	if strings.ContainsAny(st.Group, " \t\r\n:,") || len(st.Group) > 64 {
		return fmt.Errorf("group %q is not a valid group name", st.Group)
	}
	if f := st.RouterForgetSeconds; f != 0 && (f < 10 || f > 300) {
		return fmt.Errorf("router_forget_seconds %d is out of range: give 10 to 300 (30 for most routers, 60 for OpenWrt), or leave it out", f)
	}
	if r := st.PathRetrySeconds; r != 0 && (r < 30 || r > 3600) {
		return fmt.Errorf("path_retry_seconds %d is out of range: give 30 to 3600 (300, five minutes, is the default), or leave it out", r)
	}
	return nil
}

// LoadSettings reads settings.json; a missing file gives zero Settings. A
// broken file is an error naming it, and is left as it is.
func (s *Store) LoadSettings() (Settings, error) {
	var st Settings
	path := filepath.Join(s.dir, settingsFile)
	if err := readJSON(path, &st); err != nil {
		return Settings{}, err
	}
	if err := st.Validate(); err != nil {
		return Settings{}, fmt.Errorf("%s: %v (fix or remove %s)", path, err, path)
	}
	return st, nil
}

// SaveSettings atomically writes settings.json (0600).
func (s *Store) SaveSettings(st Settings) error {
	if err := st.Validate(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return s.writeJSON(settingsFile, st)
}

// LoadUpSet returns the tunnels the daemon had up (up.json); nil if none.
func (s *Store) LoadUpSet() ([]string, error) {
	var names []string
	path := filepath.Join(s.dir, upFile)
	if err := readJSON(path, &names); err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := conf.ValidateName(n); err != nil {
			return nil, fmt.Errorf("%s: %v (fix or remove %s)", path, err, path)
		}
	}
	return names, nil
}

// SaveUpSet atomically records the tunnels that are up.
func (s *Store) SaveUpSet(names []string) error {
	for _, n := range names {
		if err := conf.ValidateName(n); err != nil {
			return fmt.Errorf("save up set: %w", err)
		}
	}
	if names == nil {
		names = []string{}
	}
	return s.writeJSON(upFile, names)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: not valid JSON: %v (fix or remove %s)", path, err, path)
	}
	return nil
}

func (s *Store) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	data = append(data, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.writeFile(filepath.Join(s.dir, name), data, filePerm)
}
