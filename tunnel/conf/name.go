package conf

import (
	"errors"
	"fmt"
)

// MaxNameLen is the longest tunnel name: a Linux interface name has at most
// 15 bytes (IFNAMSIZ-1).
const MaxNameLen = 15

// ValidateName reports whether name can name a tunnel. The rules are wg-quick's
// (^[a-zA-Z0-9_=+.-]{1,15}$, which is also what Linux accepts as an interface
// name), minus ".", ".." and names starting with "-" (they would read as
// command-line options). A valid name is always a safe single path element.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("tunnel name is empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("tunnel name %q is too long: at most %d characters (a network interface name)", name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '=', c == '+', c == '.', c == '-':
		default:
			return fmt.Errorf("tunnel name %q has character %q: use only letters, digits and _ = + . -", name, c)
		}
	}
	if name == "." || name == ".." {
		return fmt.Errorf("tunnel name %q is not allowed", name)
	}
	if name[0] == '-' {
		return fmt.Errorf("tunnel name %q must not start with '-'", name)
	}
	return nil
}
