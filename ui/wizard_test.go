package ui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

func testTokens(t *testing.T) (inv *invite.Invite, invTok, replyTok, otherReplyTok string) {
	t.Helper()
	k1, k2 := fixedKey(1), fixedKey(2) // fixed, so golden files hold the same tokens
	ep, err := conf.ParseEndpoint("198.51.100.7:51820")
	if err != nil {
		t.Fatal(err)
	}
	inv = &invite.Invite{ID: "0123456789abcdef", Name: "Office PC", PublicKey: k1.PublicKey(), Endpoint: ep,
		Subnet: netip.MustParsePrefix("10.77.12.0/24"), InviterAddress: netip.MustParsePrefix("10.77.12.1/24"),
		InviteeAddress: netip.MustParsePrefix("10.77.12.2/24")}
	if invTok, err = inv.Encode(); err != nil {
		t.Fatal(err)
	}
	rep := &invite.Reply{InviteID: inv.ID, Name: "Home", PublicKey: k2.PublicKey()}
	if replyTok, err = rep.Encode(); err != nil {
		t.Fatal(err)
	}
	other := &invite.Reply{InviteID: "fedcba9876543210", Name: "Stranger", PublicKey: k2.PublicKey()}
	if otherReplyTok, err = other.Encode(); err != nil {
		t.Fatal(err)
	}
	return inv, invTok, replyTok, otherReplyTok
}

func fixedKey(seed byte) wgtypes.Key {
	var b [wgtypes.KeyLen]byte
	for i := range b {
		b[i] = seed + byte(i)
	}
	k, _ := wgtypes.NewKey(b[:])
	return k
}

// mistype flips one payload character (not the prefix) to another valid one.
func mistype(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestCheckToken(t *testing.T) {
	inv, invTok, replyTok, otherReply := testTokens(t)
	tests := []struct {
		name    string
		text    string
		want    Want
		own     string
		ok      bool
		problem string // prefix of Problem, or of Summary when ok
	}{
		{"empty", "  ", WantInvite, "", false, ""},
		{"valid invite", invTok, WantInvite, "", true, "Invite from Office PC (reachable at 198.51.100.7:51820)."},
		{"valid invite with spaces", "  " + invTok + "\n", WantInvite, "", true, "Invite from Office PC"},
		{"not an invite", "hello, here is the thing", WantInvite, "", false, "This is not a WG Punch invite or reply"},
		{"cut off", invTok[:len(invTok)*2/3], WantInvite, "", false, "The invite looks cut off: it has"},
		{"mistyped", mistype(invTok), WantInvite, "", false, "The invite is damaged"},
		{"reply where invite wanted", replyTok, WantInvite, "", false, "That is a reply from Home, not an invite."},
		{"own invite pasted back", invTok, WantReply, inv.ID, false, "That is your own invite pasted back."},
		{"some invite where reply wanted", invTok, WantReply, "", false, "That is an invite from Office PC, not a reply."},
		{"reply to another invite", otherReply, WantReply, inv.ID, false, "That reply from Stranger answers a different invite."},
		{"valid reply", replyTok, WantReply, inv.ID, true, "Reply from Home"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckToken(tt.text, tt.want, tt.own)
			if got.OK != tt.ok {
				t.Fatalf("OK = %v, want %v (problem %q)", got.OK, tt.ok, got.Problem)
			}
			text := got.Problem
			if tt.ok {
				text = got.Summary
			}
			if !strings.HasPrefix(text, tt.problem) {
				t.Errorf("got %q, want prefix %q", text, tt.problem)
			}
		})
	}
}

func TestWizardInviteSteps(t *testing.T) {
	var w Wizard
	if ok, _ := w.CanNext(); ok {
		t.Fatal("Next allowed before choosing a mode")
	}
	w.Choose(ModeInvite)
	var visited []Step
	visited = append(visited, w.Step)
	if !w.Next() {
		t.Fatal("Next refused after choosing")
	}
	visited = append(visited, w.Step)
	// Options: the name and port must be valid.
	w.Existing = []string{"office"}
	w.Name, w.PortText = "office", "51820"
	if ok, why := w.CanNext(); ok || !strings.Contains(why, "already exists") {
		t.Fatalf("duplicate name: CanNext = %v, %q", ok, why)
	}
	w.Name, w.PortText = "home", "80"
	if ok, why := w.CanNext(); ok || !strings.Contains(why, "out of range") {
		t.Fatalf("port 80: CanNext = %v, %q", ok, why)
	}
	w.PortText = "51821"
	// The tunnel subnet the other side suggested: checked as typed, passed on.
	w.SubnetText = "172.22.5"
	if ok, why := w.CanNext(); ok || !strings.Contains(why, "like 172.22.5.0/24") {
		t.Fatalf("subnet %q: CanNext = %v, %q", w.SubnetText, ok, why)
	}
	w.SubnetText = " 172.22.5.0/24 "
	if got := w.InviteRequest().Subnet; got != "172.22.5.0/24" {
		t.Fatalf("InviteRequest().Subnet = %q", got)
	}
	w.LANs = []LAN{{Prefix: "192.168.1.0/24", Share: true}, {Prefix: "10.0.0.0/8"}}
	w.Next()
	visited = append(visited, w.Step)
	if ok, _ := w.CanNext(); ok {
		t.Fatal("Next allowed before the NAT check ran")
	}
	w.NAT = &natcheck.Report{Verdict: natcheck.VerdictFail}
	w.Next()
	visited = append(visited, w.Step)
	if ok, _ := w.CanNext(); ok {
		t.Fatal("Next allowed on share before the reply")
	}
	if got, want := w.InviteRequest(), (control.InviteRequest{Name: "home", Port: 51821, LANs: []string{"192.168.1.0/24"}, Subnet: "172.22.5.0/24"}); !cmp.Equal(got, want) {
		t.Errorf("InviteRequest (-want +got):\n%s", cmp.Diff(want, got))
	}
	w.InviteResult = &control.InviteResult{Token: "x"}
	if w.CanBack() {
		t.Error("Back allowed after the tunnel was written")
	}
	w.AcceptResult = &control.AcceptResult{SafetyCode: "123-456"}
	w.Next()
	visited = append(visited, w.Step)
	if diff := cmp.Diff(Steps(ModeInvite), visited); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if ok, _ := w.CanNext(); ok {
		t.Error("Next allowed on the last page")
	}
}

func TestWizardAnswerSteps(t *testing.T) {
	_, invTok, replyTok, _ := testTokens(t)
	w := Wizard{Existing: []string{"Office-PC"}}
	w.Choose(ModeAnswer)
	w.Next()
	if w.Step != StepReceive {
		t.Fatalf("step = %v, want receive", w.Step)
	}
	w.SetInviteText(replyTok)
	if ok, _ := w.CanNext(); ok || !strings.Contains(w.Invite.Problem, "reply") {
		t.Fatalf("reply pasted as invite: CanNext = %v, %q", ok, w.Invite.Problem)
	}
	w.SetInviteText(invTok)
	if ok, why := w.CanNext(); !ok {
		t.Fatalf("valid invite refused: %q", why)
	}
	if w.Name != "Office-PC2" {
		t.Errorf("suggested name = %q, want Office-PC2", w.Name)
	}
	w.Next()
	w.Back()
	if w.Step != StepReceive {
		t.Errorf("Back went to %v", w.Step)
	}
}

func TestParsePort(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint16
		err  string
	}{
		{"51820", 51820, ""},
		{" 1024 ", 1024, ""},
		{"", 0, "Enter a listen port"},
		{"abc", 0, "not a number"},
		{"70000", 0, "out of range"},
		{"1023", 0, "out of range"},
	} {
		got, err := ParsePort(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParsePort(%q) = %d, %v; want %d, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestValidateTunnelName(t *testing.T) {
	for in, bad := range map[string]bool{"office": false, "a.b-c_d=e+f": false, "": true, "sixteen-chars-xx": true, "my link": true, "büro": true} {
		if err := ValidateTunnelName(in); (err != nil) != bad {
			t.Errorf("ValidateTunnelName(%q) = %v, want error %v", in, err, bad)
		}
	}
}

// TestValidateTunnelNameMatchesConf: every name the wizard accepts the store
// accepts too, so a bad name is caught on the options page and not after
// the invite step fails.
// TestCheckTokenShowsLANs: the networks a token will route into the link
// are named before the user accepts it.
func TestCheckTokenShowsLANs(t *testing.T) {
	k := fixedKey(9)
	inv := &invite.Invite{ID: "00112233aabbccdd", Name: "Office PC", PublicKey: k.PublicKey(),
		Endpoint: conf.Endpoint{Host: "198.51.100.7", Port: 51820}, Subnet: netip.MustParsePrefix("10.9.8.0/24"),
		InviterAddress: netip.MustParsePrefix("10.9.8.1/24"), InviteeAddress: netip.MustParsePrefix("10.9.8.2/24"),
		LANs: []netip.Prefix{netip.MustParsePrefix("192.168.7.0/24"), netip.MustParsePrefix("8.8.8.8/32")}}
	tok, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rep := &invite.Reply{InviteID: inv.ID, Name: "Home", PublicKey: fixedKey(10).PublicKey(), LANs: []netip.Prefix{netip.MustParsePrefix("172.16.5.0/24")}}
	rtok, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tok  string
		want Want
		own  string
		lans []string
	}{
		{tok, WantInvite, "", []string{"192.168.7.0/24", "8.8.8.8/32"}},
		{rtok, WantReply, inv.ID, []string{"172.16.5.0/24"}},
	} {
		c := CheckToken(tt.tok, tt.want, tt.own)
		if !c.OK {
			t.Fatalf("CheckToken: %q", c.Problem)
		}
		for _, l := range tt.lans {
			if !strings.Contains(c.Summary, l) {
				t.Errorf("Summary %q does not name the shared network %s", c.Summary, l)
			}
		}
	}
	if c := CheckToken(rtok, WantReply, inv.ID); strings.Contains(c.Summary, "192.168.7.0/24") {
		t.Errorf("reply summary %q names the invite's networks", c.Summary)
	}
}

func TestValidateTunnelNameMatchesConf(t *testing.T) {
	for _, in := range []string{"office", "a.b-c_d=e+f", ".", "..", "-x", "--", "-", ".hidden", "x-", "", "my link", "sixteen-chars-xx"} {
		uiErr, confErr := ValidateTunnelName(in), conf.ValidateName(in)
		if (uiErr == nil) != (confErr == nil) {
			t.Errorf("ValidateTunnelName(%q) = %v but conf.ValidateName = %v: the wizard and the store disagree", in, uiErr, confErr)
		}
	}
	w := &Wizard{Mode: ModeInvite, Step: StepOptions, Name: "..", PortText: "51820"}
	if ok, why := w.CanNext(); ok {
		t.Errorf("CanNext with name \"..\" = true; want false with a reason")
	} else if why == "" {
		t.Errorf("CanNext with name \"..\" gave no reason")
	}
}

func TestSuggestName(t *testing.T) {
	for _, tt := range []struct {
		display  string
		existing []string
		want     string
	}{
		{"Office PC", nil, "Office-PC"},
		{"Office PC", []string{"Office-PC"}, "Office-PC2"},
		{"", nil, "wgpunch"},
		{"Küche!!", nil, "Kche"},
		{"A very long computer name", nil, "A-very-long"},
	} {
		got := SuggestName(tt.display, tt.existing)
		if got != tt.want {
			t.Errorf("SuggestName(%q) = %q, want %q", tt.display, got, tt.want)
		}
		if err := ValidateTunnelName(got); err != nil {
			t.Errorf("SuggestName(%q) = %q is not a valid name: %v", tt.display, got, err)
		}
	}
}

func TestConnectPhase(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hs := start.Add(3 * time.Second)
	waiting := &control.Report{Tunnels: []control.TunnelStatus{{Name: "home", Up: true, ListenPort: 51821,
		Peers: []control.PeerStatus{{Name: "Office", State: "connecting"}}}}}
	done := &control.Report{Tunnels: []control.TunnelStatus{{Name: "home", Up: true,
		Peers: []control.PeerStatus{{Name: "Office", State: "connected", LastHandshake: &hs}}}}}

	if ph := ConnectPhaseOf(waiting, "home", start, start.Add(10*time.Second), nil); ph.Connected || ph.Tips != "" {
		t.Errorf("after 10 s: %+v", ph)
	}
	ph := ConnectPhaseOf(waiting, "home", start, start.Add(61*time.Second), &natcheck.Report{Verdict: natcheck.VerdictFail})
	if ph.Connected {
		t.Fatal("connected without a handshake")
	}
	for _, want := range []string{"other computer's link switched on", "cannot link directly", "UDP port 51821"} {
		if !strings.Contains(ph.Tips, want) {
			t.Errorf("tips after 61 s lack %q:\n%s", want, ph.Tips)
		}
	}
	if ph := ConnectPhaseOf(done, "home", start, start.Add(5*time.Second), nil); !ph.Connected || !strings.Contains(ph.Text, "Connected to Office") {
		t.Errorf("with handshake: %+v", ph)
	}
	if ph := ConnectPhaseOf(done, "other", start, start.Add(5*time.Second), nil); ph.Connected {
		t.Errorf("another tunnel's handshake counted: %+v", ph)
	}
}

// TestWizardAllowPublicRoutes: the options page's opt-in (off by default)
// reaches every request of this side.
func TestWizardAllowPublicRoutes(t *testing.T) {
	w := &Wizard{Name: "link", InviteText: "x", ReplyText: "y"}
	if w.InviteRequest().AllowPublicRoutes || w.AcceptInviteRequest().AllowPublicRoutes || w.AcceptReplyRequest().AllowPublicRoutes {
		t.Fatal("public routes allowed by default")
	}
	w.AllowPublicRoutes = true
	if !w.InviteRequest().AllowPublicRoutes || !w.AcceptInviteRequest().AllowPublicRoutes || !w.AcceptReplyRequest().AllowPublicRoutes {
		t.Fatal("the opt-in does not reach the requests")
	}
}
