// Package archtest holds no code, only a test that pins the import graph:
// data flows one way, cli → broker → store / macaroon / policy / audit →
// runner, and no package but the broker can reach the store, which is the
// only place a value is read. Leaf packages that only name things
// (names, agentid) may be imported by any layer.
package archtest
