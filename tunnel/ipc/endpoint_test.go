package ipc

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

const (
	sidUsers = "S-1-5-32-545"
	sidAU    = "S-1-5-11"
	sidBob   = "S-1-5-21-1-2-3-1001" // another local user
	sidMe    = "S-1-5-21-1-2-3-1000"
)

// EndpointDirSDDL as Windows reads it back.
var protectedDir = Security{Owner: SIDAdministrators, DACL: []ACE{
	{SID: SIDSystem, Mask: 0x1f01ff, Allow: true},
	{SID: SIDAdministrators, Mask: 0x1f01ff, Allow: true},
	{SID: sidAU, Mask: 0x1200a9, Allow: true},
	{SID: sidAU, Mask: 0x12019f, Allow: true, InheritOnly: true},
}}

func TestCheckEndpointDir(t *testing.T) {
	with := func(f func(*Security)) Security {
		s := protectedDir
		s.DACL = append([]ACE(nil), protectedDir.DACL...)
		f(&s)
		return s
	}
	for _, tt := range []struct {
		name string
		sec  Security
		ok   bool
	}{
		{"the daemon's folder", protectedDir, true},
		{"owned by SYSTEM", with(func(s *Security) { s.Owner = SIDSystem }), true},
		{"the caller's own folder", with(func(s *Security) { s.Owner = sidMe }), true},
		// What %ProgramData%'s ACL gives a folder another user made.
		{"made by another user", with(func(s *Security) { s.Owner = sidBob }), false},
		{"Users may create files", with(func(s *Security) {
			s.DACL = append(s.DACL, ACE{SID: sidUsers, Mask: fileAddFile, Allow: true})
		}), false},
		{"another user may rewrite the ACL", with(func(s *Security) {
			s.DACL = append(s.DACL, ACE{SID: sidBob, Mask: rightWriteDAC, Allow: true})
		}), false},
		{"generic write for everyone", with(func(s *Security) {
			s.DACL = append(s.DACL, ACE{SID: "S-1-1-0", Mask: rightGenericWrite, Allow: true})
		}), false},
		{"a deny entry is harmless", with(func(s *Security) {
			s.DACL = append(s.DACL, ACE{SID: sidBob, Mask: rightGenericAll, Allow: false})
		}), true},
		{"no DACL", Security{Owner: SIDAdministrators, NullDACL: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEndpointDir(`C:\ProgramData\WGPunch`, tt.sec, sidMe)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckEndpointDir = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, ErrUntrustedEndpoint) || !strings.Contains(err.Error(), "delete")) {
				t.Errorf("error %q does not say what to do", err)
			}
		})
	}
}

func TestCheckEndpointFile(t *testing.T) {
	const sock = `C:\ProgramData\WGPunch\wgpunch.sock`
	for _, owner := range []string{SIDAdministrators, SIDSystem} {
		if err := CheckEndpointFile(sock, Security{Owner: owner}, sidMe); err != nil {
			t.Errorf("socket owned by %s: %v", owner, err)
		}
	}
	if err := CheckEndpointFile(sock, Security{Owner: sidBob}, sidMe); !errors.Is(err, ErrUntrustedEndpoint) {
		t.Errorf("socket created by another user: %v, want ErrUntrustedEndpoint", err)
	}
}

// Dial refuses an endpoint the check rejects before it talks to it (no
// status believed, no token sent).
func TestDialChecksEndpoint(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	old := trustEndpoint
	defer func() { trustEndpoint = old }()
	refuse := errors.New("squatted")
	trustEndpoint = func(p string) error {
		if p != sock {
			t.Errorf("checked %q, want %q", p, sock)
		}
		return refuse
	}
	if _, err := Dial(sock); !errors.Is(err, refuse) {
		t.Fatalf("Dial = %v, want the check's error", err)
	}
	ln.Close()
	select {
	case <-accepted:
		t.Error("Dial connected to an endpoint the check refused")
	default:
	}
}

func TestDaemonWording(t *testing.T) {
	who, advice := whoMayChange("windows", "wgpunch", false)
	if strings.Contains(who+advice, "groupadd") || !strings.Contains(who, "administrators") {
		t.Errorf("windows: %q, %q", who, advice)
	}
	if _, advice := whoMayChange("linux", "wgpunch", false); !strings.Contains(advice, "sudo groupadd --system wgpunch") {
		t.Errorf("linux without the group: advice %q", advice)
	}
	if who, advice := whoMayChange("linux", "wgpunch", true); advice != "" || !strings.Contains(who, `group "wgpunch"`) {
		t.Errorf("linux with the group: %q, %q", who, advice)
	}
	if s := notRootText("windows"); strings.Contains(s, "sudo") || !strings.Contains(s, "administrator") {
		t.Errorf("windows: %q", s)
	}
	if s := stopDaemon("windows"); strings.Contains(s, "systemctl") {
		t.Errorf("windows: %q", s)
	}
}
