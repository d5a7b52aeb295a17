package control_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// TestSystemPortsRefused: listen ports and NAT-check ports below 1024 are
// refused as invalid input with what to pick instead, and nothing is saved.
func TestSystemPortsRefused(t *testing.T) {
	a := NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	const want = "ports below 1024 are reserved for system services; pick one from 1024 to 65535, e.g. 51820"
	for _, tc := range []struct {
		name string
		call func(port uint16) error
	}{
		{"invite", func(p uint16) error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "web", Endpoint: "127.0.0.1:51821", Port: p})
			return err
		}},
		{"set-port", func(p uint16) error { return a.Svc.SetListenPort(ctx, "home", p) }},
		{"natcheck", func(p uint16) error {
			_, err := a.Svc.NATCheck(ctx, NATCheckRequest{Port: p})
			return err
		}},
	} {
		for _, p := range []uint16{1, 80, 1023} {
			t.Run(fmt.Sprintf("%s %d", tc.name, p), func(t *testing.T) {
				before := a.Snapshot()
				err := tc.call(p)
				if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), fmt.Sprintf("port %d is not allowed: %s", p, want)) {
					t.Errorf("error = %v, want ErrInvalidInput saying %q", err, want)
				}
				if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
					t.Errorf("refused call changed files (-before +after):\n%s", diff)
				}
			})
		}
	}
	// 1024 itself is allowed.
	if err := a.Svc.SetListenPort(ctx, "home", 1024); err != nil {
		t.Errorf("set-port 1024: %v", err)
	}
}

// TestRequestSTUNListCapped: a request's own STUN list obeys the settings'
// rule (MaxSTUNServers, after dropping blanks and duplicates).
func TestRequestSTUNListCapped(t *testing.T) {
	a := NewEnv(t, true)
	var nine []string
	for i := range MaxSTUNServers + 1 {
		nine = append(nine, fmt.Sprintf("192.0.2.%d", i+1))
	}
	want := fmt.Sprintf("%d STUN servers given, but at most %d are allowed", MaxSTUNServers+1, MaxSTUNServers)
	before := a.Snapshot()
	_, err := a.Svc.Invite(ctx, InviteRequest{Name: "web", STUN: nine})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), want) {
		t.Errorf("invite with %d STUN servers: %v, want ErrInvalidInput %q", len(nine), err, want)
	}
	_, err = a.Svc.NATCheck(ctx, NATCheckRequest{STUN: nine})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), want) {
		t.Errorf("natcheck with %d STUN servers: %v, want ErrInvalidInput %q", len(nine), err, want)
	}
	if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
		t.Errorf("refused calls changed files (-before +after):\n%s", diff)
	}
	// Eight, and nine with a duplicate, pass the check (the test's STUN
	// servers need not answer).
	if _, err := a.Svc.NATCheck(ctx, NATCheckRequest{STUN: append(nine[:MaxSTUNServers:MaxSTUNServers], nine[0])}); errors.Is(err, ErrInvalidInput) {
		t.Errorf("natcheck with %d STUN servers (one repeated): %v", MaxSTUNServers+1, err)
	}
}
