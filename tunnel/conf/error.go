package conf

import (
	"fmt"
	"strings"
)

// ParseError is a problem in a wg-quick file. Msg says what is wrong and, where
// it helps, what to do. Msg never contains the value of a PrivateKey or
// PresharedKey line (nor anything that looks like a key).
type ParseError struct {
	Line int // 1-based; 0 when the problem is not tied to a line
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// safeIdent returns s quoted if it is a short identifier that can be echoed
// in an error message, else "".
func safeIdent(s string) string {
	if s == "" || len(s) > 24 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return ""
		}
	}
	return fmt.Sprintf("%q", s)
}

// looksLikeKey reports whether s contains a run of 40 or more base64
// characters with at least one upper-case letter, '+', '/' or '=': possibly
// a pasted key, which error messages must not echo. (Host names and words
// are lower case; a random key is almost never.)
func looksLikeKey(s string) bool {
	run, marked := 0, false
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z', c == '+', c == '/', c == '=':
			marked = true
		default:
			if run >= 40 && marked {
				return true
			}
			run, marked = 0, false
			continue
		}
		run++
	}
	return false
}

// keyNames is the canonical spelling of every key we know, by lower case.
var keyNames = map[string]string{}

func canonicalKey(lower string) string {
	if k, ok := keyNames[lower]; ok {
		return k
	}
	return lower
}

func init() {
	for _, k := range []string{
		"PrivateKey", "ListenPort", "Address", "DNS", "MTU",
		"PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive",
		"PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig", "Table", "FwMark",
	} {
		keyNames[strings.ToLower(k)] = k
	}
}
