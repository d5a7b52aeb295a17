package conf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tokens as the invite package makes them (upper case); configs keep them
// in lower case.
const (
	tokA = "WGP1I-ABJQCI2FM6E2XTPPAEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QADSYAOED4U3ABYCUACFGKNQMAUTIMDAARQAQBDDAKQAIOIFWGSY3FE5ZSA3DBOB2G64BB6NYPQLQ"
	tokB = "wgp1i-abjqci2fm6e2xtppaebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4qadsyaoed4u3abycuacfgknqmautimdaarqaqbddakqaiolfwgsy3fe5zsa3dbob2g64bb6nypqlq"
)

// TestExchangeMetaRoundTrip: the stored invite copies and per-peer safety
// code survive Marshal and Parse; tokens come back in lower case.
func TestExchangeMetaRoundTrip(t *testing.T) {
	want := fullConfig()
	want.Interface.Meta.SentInvites = []string{tokA, tokB}
	want.Peers[0].Meta.SafetyCode = "0421 9387 1156 2203"
	if err := want.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	text := want.Marshal()
	if !strings.Contains(string(text), "# wgpunch.SentInvites = "+strings.ToLower(tokA)+", "+tokB+"\n") ||
		!strings.Contains(string(text), "# wgpunch.SafetyCode = 0421 9387 1156 2203\n") {
		t.Fatalf("Marshal:\n%s", text)
	}
	got, err := Parse("wgp0", text)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, text)
	}
	want.Interface.Meta.SentInvites[0] = strings.ToLower(tokA)
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("Parse(Marshal()) mismatch (-want +got):\n%s", diff)
	}
	if again := got.Marshal(); string(again) != string(text) {
		t.Errorf("Marshal is not stable:\n%s\n---\n%s", text, again)
	}
	c := got.Clone()
	c.Interface.Meta.SentInvites[0] = "x"
	if got.Interface.Meta.SentInvites[0] == "x" {
		t.Error("Clone shares SentInvites")
	}
}

// TestExchangeMetaOld: a config written before these keys parses with
// them empty (status then falls back to the key-only code).
func TestExchangeMetaOld(t *testing.T) {
	c, err := Parse("wgp0", fullConfig().Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if c.Interface.Meta.SentInvites != nil || c.Peers[0].Meta.SafetyCode != "" {
		t.Fatalf("old config: %+v %+v", c.Interface.Meta, c.Peers[0].Meta)
	}
}

func TestExchangeMetaRejects(t *testing.T) {
	head := "[Interface]\nPrivateKey = " + privA.String() + "\n"
	peer := head + "\n[Peer]\nPublicKey = " + pubB.String() + "\n"
	tests := []struct{ name, text, want string }{
		{"code with letters", peer + "# wgpunch.SafetyCode = 0421 93a7 1156 2203\n", "not a safety code"},
		{"code two groups", peer + "# wgpunch.SafetyCode = 0421 9387\n", "not a safety code"},
		{"code in interface", head + "# wgpunch.SafetyCode = 0421 9387 1156 2203\n", "unknown WG Punch setting"},
		{"not a token", head + "# wgpunch.SentInvites = hello\n", "not an invite token"},
		{"a reply", head + "# wgpunch.SentInvites = wgp1r-abcd\n", "not an invite token"},
		{"no version", head + "# wgpunch.SentInvites = wgpi-abcd\n", "not an invite token"},
		{"upper case (looks like a key)", head + "# wgpunch.SentInvites = " + tokA + "\n", "looks like a WireGuard key"},
		{"too many", head + "# wgpunch.SentInvites = " + strings.Repeat(tokB+", ", MaxSentInvites) + tokB + "\n", "at most 8"},
	}
	for _, tt := range tests {
		_, err := Parse("wgp0", []byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse error %v, want %q", tt.name, err, tt.want)
		}
		checkNoSecret(t, err)
	}
	c := fullConfig()
	c.Peers[0].Meta.SafetyCode = "12"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SafetyCode") {
		t.Errorf("Validate(bad SafetyCode) = %v", err)
	}
	c = fullConfig()
	c.Interface.Meta.SentInvites = []string{"WGP1R-AAAA"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SentInvites") {
		t.Errorf("Validate(bad SentInvites) = %v", err)
	}
}
