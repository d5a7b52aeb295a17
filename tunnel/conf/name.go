package conf

import (
	"errors"
	"fmt"
)

// MaxNameLen is the longest tunnel name: a Linux interface name has at most
// 15 bytes (IFNAMSIZ-1).
const MaxNameLen = 15

// NameRune says whether r may stand in a tunnel name: a-z, A-Z, 0-9 and
// _ = + . - (wg-quick's set). The one home of the character rule: the
// wizard, the Windows service names and the engine use it too.
func NameRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '_' || r == '=' || r == '+' || r == '.' || r == '-'
}

// NameProblem is what is wrong with a tunnel name (CheckName).
type NameProblem int

// Name problems, in the order CheckName looks for them.
const (
	NameOK          NameProblem = iota
	NameEmpty                   // ""
	NameTooLong                 // more than MaxNameLen bytes
	NameBadChar                 // a character NameRune refuses
	NameDots                    // "." or ".."
	NameLeadingDash             // starts with "-"
)

// CheckName is ValidateName's rule without the words, for callers that
// explain it in their own (the wizard): the first problem of name and,
// for NameBadChar, the byte index of the refused character.
func CheckName(name string) (NameProblem, int) {
	switch {
	case name == "":
		return NameEmpty, 0
	case len(name) > MaxNameLen:
		return NameTooLong, 0
	}
	for i := 0; i < len(name); i++ {
		if !NameRune(rune(name[i])) {
			return NameBadChar, i
		}
	}
	switch {
	case name == "." || name == "..":
		return NameDots, 0
	case name[0] == '-':
		return NameLeadingDash, 0
	}
	return NameOK, 0
}

// ValidateName reports whether name can name a tunnel. The rules are wg-quick's
// (^[a-zA-Z0-9_=+.-]{1,15}$, which is also what Linux accepts as an interface
// name), minus ".", ".." and names starting with "-" (they would read as
// command-line options). A valid name is always a safe single path element.
func ValidateName(name string) error {
	problem, i := CheckName(name)
	switch problem {
	case NameEmpty:
		return errors.New("tunnel name is empty")
	case NameTooLong:
		return fmt.Errorf("tunnel name %q is too long: at most %d characters (a network interface name)", name, MaxNameLen)
	case NameBadChar:
		return fmt.Errorf("tunnel name %q has character %q: use only letters, digits and _ = + . -", name, name[i])
	case NameDots:
		return fmt.Errorf("tunnel name %q is not allowed", name)
	case NameLeadingDash:
		return fmt.Errorf("tunnel name %q must not start with '-'", name)
	}
	return nil
}
