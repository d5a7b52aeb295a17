package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/winsvc"
)

func TestRefuseSharedLANs(t *testing.T) {
	if err := refuseSharedLANs(&conf.Config{Name: "office"}); err != nil {
		t.Errorf("config without LANs: %v, want nil", err)
	}
	cfg := &conf.Config{Name: "office"}
	cfg.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}
	err := refuseSharedLANs(cfg)
	if !errors.Is(err, ErrLANSharingUnsupported) {
		t.Fatalf("config with LANs: %v, want ErrLANSharingUnsupported", err)
	}
	want := "sharing this computer's LAN subnets is not supported on Windows yet: remove them from the link (Edit) or share them from a Linux computer in that office"
	if !strings.HasSuffix(err.Error(), want) || !strings.Contains(err.Error(), `"office"`) {
		t.Errorf("message %q, want the tunnel named and %q", err, want)
	}
}

func TestServiceError(t *testing.T) {
	down := fmt.Errorf("take tunnel %q down: %w", "office", winsvc.ErrNotUp)
	err := serviceError(down)
	if !errors.Is(err, ErrNotUp) || !errors.Is(err, winsvc.ErrNotUp) || err.Error() != down.Error() {
		t.Errorf("serviceError(%v) = %v, want ErrNotUp with the same text", down, err)
	}
	if err := serviceError(nil); err != nil {
		t.Errorf("serviceError(nil) = %v", err)
	}
	other := errors.New("access denied")
	if err := serviceError(other); err != other {
		t.Errorf("serviceError(other) = %v, want it unchanged", err)
	}
}
