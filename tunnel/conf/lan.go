package conf

// MinLANBits is the shortest prefix a shared LAN may have (IPv4 and IPv6):
// the receiver routes it into the tunnel, so a wider one would capture
// internet traffic, not a LAN. The one home of this rule: the invite codec,
// the planner, the engine and the LAN list all use it.
const MinLANBits = 8
