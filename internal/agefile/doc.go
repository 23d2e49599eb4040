// Package agefile re-wraps an age v1 file to a new set of recipients
// without touching its payload: the file key is unwrapped from the header
// with the caller's identities, wrapped to the new recipients, and a new
// header with its MAC is written in front of the same payload bytes (the
// nonce and the STREAM chunks, copied byte for byte).
//
// It owns the age v1 header: a parser exactly as strict as age's own (the
// same lines, limits and canonical base64, tested against age's parser and
// the age test vectors), the header writer, and the header MAC. age exports
// the recipient and identity interfaces and DecryptHeader, which this
// package uses to unwrap the file key and check the old MAC, but not its
// header writer or MAC.
//
// It never encrypts a payload. It decrypts one only to authenticate it,
// with age, into a buffer it wipes (age's own chunk buffer is left to the
// garbage collector, as on every read), so that a file cut short or
// altered is refused rather than given a fresh header.
//
// It refuses: armored files, scrypt (passphrase) recipients, a recipient
// set age itself would refuse to encrypt to (post-quantum mixed with
// classic), headers age would not parse, a bad MAC, a payload that does
// not authenticate. On any refusal it returns an error and no bytes.
package agefile
