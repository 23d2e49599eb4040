// Package macaroon implements macaroons compatible with libmacaroons: the
// HMAC-SHA256 signature chain over first-party caveats, and the version 2
// binary encoding.
//
// The package owns the cryptography and the encoding of a token, nothing
// else. Caveats are opaque bytes: what a caveat means is decided by the
// checker the caller passes to [Macaroon.Verify], which sees a caveat only
// after the token's signature has been recomputed and compared in constant
// time.
//
// A holder can add caveats to a macaroon without the root key, so a derived
// token can only ever do less than the one it came from. A Macaroon value is
// never modified after it is made: adding a caveat returns a new one, and no
// slice is shared with the caller in either direction. The location is an
// unsigned hint, as in libmacaroons: nothing may rely on it.
//
// The package refuses to:
//
//   - emit or parse any encoding but canonical V2 binary and its text form,
//     [TextPrefix] followed by unpadded base64url. Parsing is strict: fields
//     in the one order libmacaroons writes them, minimal varints, no empty
//     optional fields, a 32-byte signature, no trailing bytes. Every accepted
//     input therefore re-encodes to the identical bytes.
//   - accept a third-party caveat (one with a location or a verification
//     id): llms delegates with first-party caveats only, so a token that
//     would need a discharge is refused when it is parsed.
//   - accept more than 64 KiB of binary token or more than 256 caveats, so
//     hostile input cannot exhaust memory or time.
//   - accept an empty identifier, an empty key or a location that is not
//     UTF-8.
//   - hand any caveat to the checker when the signature does not match.
//   - put keys, signatures or token bytes in its error messages.
package macaroon
