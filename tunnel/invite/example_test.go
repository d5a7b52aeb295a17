package invite_test

import (
	"errors"
	"fmt"

	"github.com/wgpunch/wgpunch/tunnel/invite"
)

func ExampleDecode() {
	// A token as it may arrive from a chat app (wrapped, lower-cased) and
	// retyped with one mistake ("aiolf" for "aioif").
	pasted := "<wgp1i-abjqci2fm6e2xtppaebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4qadsyaoed4u3abycuacfgknqmautimdaarqaqbddakqaiolfwgsy3fe5zsa3dbob2g64bb6nypqlq>."
	m, err := invite.Decode(pasted)
	var de *invite.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Kind, "-", de.Msg)
	}
	// The same token, intact.
	m, err = invite.Decode("WGP1I-ABJQCI2FM6E2XTPPAEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QADSYAOED4U3ABYCUACFGKNQMAUTIMDAARQAQBDDAKQAIOIFWGSY3FE5ZSA3DBOB2G64BB6NYPQLQ")
	if err != nil {
		fmt.Println(err)
		return
	}
	i := m.Invite
	fmt.Println(i.Name, i.Endpoint.Host, i.Endpoint.Port, i.Subnet, i.InviteeAddress, i.NATVerdict)
	// Output:
	// mistyped - the invite is damaged: its checksum does not match, so a character was changed or mistyped; copy and paste it instead of retyping, or scan the QR code
	// Alice's laptop 203.0.113.7 51820 10.77.12.0/24 10.77.12.2/24 ok
}
