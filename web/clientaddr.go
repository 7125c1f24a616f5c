package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address a request is counted against (the search rate
// limit, the login throttle): the TCP peer or, when the peer is a trusted
// proxy, the right-most X-Forwarded-For entry that is not itself a trusted
// proxy. Entries left of it are the client's word and cannot be believed.
// An entry may carry a port, as some proxies write it (see parseHop).
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = a
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return addr
}

// parseHop parses one X-Forwarded-For entry: 192.0.2.1, 192.0.2.1:5678,
// 2001:db8::1, [2001:db8::1] or [2001:db8::1]:443. Anything else (a name, a
// bad port, "unknown") is not an address.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func peerAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap() // the zero Addr for a peer without an IP: one shared count
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
