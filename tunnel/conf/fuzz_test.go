package conf

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// secretValues returns the values of PrivateKey and PresharedKey lines in a
// file that appear nowhere else in it (a value that also appears elsewhere,
// e.g. as a section name, may legitimately be echoed from there).
func secretValues(in string) []string {
	var out []string
	for _, line := range strings.Split(in, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k != "privatekey" && k != "presharedkey" {
			continue
		}
		if i := strings.IndexByte(v, '#'); i >= 0 {
			v = v[:i]
		}
		v = strings.TrimSpace(strings.TrimSuffix(v, "\r"))
		if len(v) >= 8 && strings.Count(in, v) == 1 {
			out = append(out, v)
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	f.Add(string(fullConfig().Marshal()))
	f.Add(string(fullConfig().MarshalExport(true)))
	f.Add(string(fullConfig().MarshalExport(false)))
	f.Add(fill(head + peer + "AllowedIPs = 10.0.0.0/8, fd00::/8\nEndpoint = host.example:1\nPersistentKeepalive = off\n"))
	f.Add(fill("\ufeff[interface]\r\nprivatekey = {PRIV} # c\r\n[peer]\r\npublickey={PUBB}\r\npresharedkey = {PSK}\r\n"))
	f.Add(fill(head + "PostUp = echo hi\n"))
	f.Add(fill(head + "# wgpunch.DisplayName = \"a\\tb\"\n"))
	f.Add(fill(head + "{PSK}\n"))
	f.Add(fill("[Interface]\nPrivateKey = {PRIV}x\n"))
	f.Add("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nListenPort = 51820\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse("wgp0", []byte(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, not *ParseError", err, err)
			}
			for _, s := range secretValues(in) {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error %q contains the secret %q", err, s)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		out := c.Marshal()
		c2, err := Parse("wgp0", out)
		if err != nil {
			t.Fatalf("Parse(Marshal()) failed: %v\ninput:\n%q\noutput:\n%s", err, in, out)
		}
		if diff := cmp.Diff(c, c2, cmpOpts...); diff != "" {
			t.Fatalf("Parse(Marshal()) mismatch (-want +got):\n%s", diff)
		}
		if out2 := c2.Marshal(); string(out2) != string(out) {
			t.Fatalf("Marshal not stable")
		}
		if _, err := Parse("wgp0", c.MarshalExport(true)); err != nil {
			t.Fatalf("Parse(MarshalExport(true)): %v", err)
		}
	})
}
