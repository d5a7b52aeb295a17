package winsvc

import (
	"fmt"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Sanitize parses a wg-quick config handed to the elevated helper with WG
// Punch's strict parser and renders it again for WireGuard's service, so
// only what WG Punch itself writes reaches a service running as SYSTEM
// (no PostUp and the like).
func Sanitize(name string, wgQuick []byte) ([]byte, error) {
	cfg, err := conf.Parse(name, wgQuick)
	if err != nil {
		return nil, fmt.Errorf("config of %q: %w", name, err)
	}
	return cfg.MarshalExport(true), nil
}
