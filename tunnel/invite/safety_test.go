package invite

import (
	"regexp"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestSafetyCode(t *testing.T) {
	format := regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4}$`)
	seen := map[string]bool{}
	for n := range 200 {
		a, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		b, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		ab, ba := SafetyCode(a.PublicKey(), b.PublicKey()), SafetyCode(b.PublicKey(), a.PublicKey())
		if ab != ba {
			t.Fatalf("pair %d: SafetyCode(a, b) = %q, SafetyCode(b, a) = %q", n, ab, ba)
		}
		if !format.MatchString(ab) {
			t.Fatalf("SafetyCode = %q, want 3 groups of 4 digits", ab)
		}
		if seen[ab] {
			t.Fatalf("SafetyCode %q repeated for a different pair", ab)
		}
		seen[ab] = true
		// Swapping in a third key changes the code.
		c, _ := wgtypes.GeneratePrivateKey()
		if SafetyCode(a.PublicKey(), c.PublicKey()) == ab {
			t.Fatalf("SafetyCode unchanged after replacing a key")
		}
	}
}

// TestSafetyCodeVector pins the algorithm documented in
// docs/invite-format.md: both sides of a link may run different versions.
func TestSafetyCodeVector(t *testing.T) {
	if got, want := SafetyCode(key(1), key(100)), SafetyCode(key(100), key(1)); got != want {
		t.Fatalf("not symmetric: %q vs %q", got, want)
	}
	if got, want := SafetyCode(key(1), key(100)), safetyVector; got != want {
		t.Errorf("SafetyCode(key(1), key(100)) = %q, want %q", got, want)
	}
}

// safetyVector was computed independently of this package, in Python:
//
//	a, b = sorted([bytes(range(1, 33)), bytes(range(100, 132))])
//	h = hashlib.sha256(b"wgpunch safety code v1\0" + a + b).digest()
//	"%012d" % (int.from_bytes(h[:8], "big") % 10**12)
const safetyVector = "7263 7176 3872"
