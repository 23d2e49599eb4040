// Package egress owns agent mode's network allow-list: which hosts and
// ports the agent's traffic may reach, and nothing about how (the
// launcher's seccomp supervisor decides each direct connect, see
// internal/sandbox; the credential proxy decides each request it relays).
//
// It owns:
//
//   - the grammar of a rule, HOST[:PORT] (Parse, ParseSpec): a lower-case
//     DNS name ("api.github.com"), a glob of one leading label
//     ("*.github.com": every name that ends in ".github.com" with at least
//     one label before it — never "github.com" itself), an IPv4 literal
//     ("127.0.0.2") or a bracketed IPv6 literal ("[2001:db8::1]"); no port
//     means every port. Anything not in its one canonical spelling is
//     refused with the spelling to use (upper case, a trailing dot,
//     leading zeros, an unbracketed or zoned IPv6 address, an IPv4-mapped
//     one, a name whose last label is a number, which resolvers would read
//     as an IPv4 address);
//   - the named presets ("@npm", "@pypi", "@go", …: the hosts each tool
//     really fetches from, port 443) and the per-agent table of API hosts
//     (AgentHosts), which a launch allows by default;
//   - the decisions: List.Allowed(host, port), the proxy's, for a host as a
//     request names it (a name, or an IP literal matched only by IP
//     rules); List.AllowedAddr, the supervisor's, for an address a process
//     connects to directly, which only IP-literal rules can allow — an
//     allowed name never allows a direct connect to whatever it resolves
//     to; and List.DialAllowed, the proxy's check of each address it is
//     about to dial for an allowed name (DNS rebinding);
//   - Refusals: the bound on what refused connects put in the audit log
//     (each destination once, a fixed number of them, the rest counted);
//   - Local: whether an address is this host's own (loopback, unspecified,
//     or assigned to one of its interfaces), where the user's databases,
//     docker's TCP API and the launcher's own listeners are.
//
// The proxy's contract: for a request to host:port, call Allowed(host,
// port) with the host as the request names it (no brackets, no port);
// refuse when false. Resolve the name yourself, and before dialing each
// address ip call DialAllowed(host, ip, port); refuse when false — a name
// that resolves to this host's own addresses (127.0.0.1, the launcher's
// listeners, the LAN address of a local server), to a link-local address
// (the cloud metadata service) or to a multicast one is refused unless that
// address is allowed as an IP literal itself. Dial the address checked,
// never the name again.
//
// It refuses: specs outside the grammar, unknown presets, globs wider
// than a registrable-looking suffix of two labels ("*.com"). It does not
// resolve names, hold connections, or know about processes.
package egress
