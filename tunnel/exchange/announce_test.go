package exchange

import (
	"strings"
	"testing"
)

// TestNATFailWarningWording: "cannot be punched ... symmetric" only for an
// endpoint-dependent mapping; a check where no STUN server answered says so.
func TestNATFailWarningWording(t *testing.T) {
	if w := NATFailWarning("bob", "ok", "endpoint-independent"); w != nil {
		t.Errorf("warning for ok verdict: %+v", w)
	}
	sym := NATFailWarning("bob", "fail", "endpoint-dependent")
	if sym == nil || !strings.Contains(sym.Message, "cannot be punched") || !strings.Contains(sym.Message, "symmetric") {
		t.Errorf("symmetric: %+v", sym)
	}
	blocked := NATFailWarning("bob", "fail", "unknown")
	if blocked == nil || blocked.Code != "nat-fail" || strings.Contains(blocked.Message, "symmetric") || !strings.Contains(blocked.Message, "no STUN server answered") {
		t.Errorf("UDP blocked: %+v", blocked)
	}
}
