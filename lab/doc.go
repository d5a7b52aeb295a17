// Package lab holds WG Punch's network-namespace lab: end-to-end tests and
// benchmarks that run the real wgpunch binary, real wireguard-go, coturn STUN
// servers and iptables NAT routers, each in network namespaces the tests
// create and delete themselves.
//
// Topology (every address lives only inside namespaces the lab creates):
//
//	host a1 192.168.1.10 ─┐                              ┌─ host b1 192.168.2.10
//	host a2 192.168.1.11 ─┤ router A                     │ router B
//	                     lan0 ── wan0 203.0.113.1 ─┐  ┌─ wan0 203.0.113.2
//	                                               │  │
//	                             internet: br0 203.0.113.254/24,
//	                             STUN (coturn) on 198.51.100.1 and 198.51.100.2:3478
//
// Routers masquerade the LAN behind their WAN address and drop every
// unsolicited packet arriving on the WAN (INPUT and FORWARD), like home
// routers. A router can be made symmetric (MASQUERADE --random-fully),
// block outbound UDP, or "reboot" (forwarding dropped, conntrack flushed).
//
// IPv6 (ipv6_test.go, per test): the internet gets 2001:db8::fe/64 on br0
// and a second coturn on 2001:db8:ffff::1 and ::2 port 3479; an office gets
// WAN 2001:db8::N, LAN 2001:db8:N::/64 and a stateful ip6tables firewall
// (no NAT: established traffic and ICMPv6 in, nothing else), its hosts
// 2001:db8:N::10 and up.
//
// LAN aliases (aliases_test.go): two offices built with the same LAN
// number, so both use 192.168.1.0/24, each with its WG Punch machine at
// .10 and a LAN host at .50 (Office.HostAt) that answers TCP port 7000
// with "office A" or "office B" (testutil.ServeName, a listener the test
// process opens inside the host's namespace).
//
// Each host runs in its own network namespace and its own mount namespace,
// with a private tmpfs on /var/run/wireguard, so two hosts can both have a
// tunnel named "office" without their UAPI sockets colliding. A long-lived
// per-host process holds those namespaces; every command for the host runs
// through nsenter into it.
//
// The tests need root, iproute2 (ip netns), iptables, nftables (nft), conntrack, coturn,
// wireguard-go, wireguard-tools, netcat-openbsd, iputils-ping, util-linux
// (nsenter, unshare, setpriv) and iperf3 (benchmarks); otherwise they skip
// and say what is missing. Run them with
//
//	go test -count=1 -v -timeout 20m ./lab/
//
// (about one minute, plus building wgpunch) and the benchmarks with
//
//	go test -run='^$' -bench=. -benchtime=1x -timeout 20m ./lab/
//
// The tests build the CLI themselves (go build -tags nogui ./cmd/trayapp).
// Environment:
//
//	WGPUNCH_LAB=0          skip the lab
//	WGPUNCH_BIN=PATH       use this wgpunch binary instead of building one
//	WGPUNCH_LAB_KEEP=1     keep the scratch directory (logs, state) of a failed test
//	WGPUNCH_LAB_LOGS=1     with -v, print every process's log at the end
//	WGPUNCH_LAB_IPCHANGE=0 skip the public-address-change scenario (a dynamic
//	                       DNS peer gets a new address; 20-30 s)
//
// If a test binary is killed (e.g. by -timeout) its namespaces stay;
// lab/clean.sh removes them.
package lab
