// Package chain signs and chains what a gateway writes to InfluxDB, and verifies it
// at the ministry's ingest. It is shared by the Pi and the central side and uses
// the standard library only.
//
// # The link
//
// Every write request (POST /api/v2/write) carries one [Link] in HTTP headers:
//
//	Saqshy-Centre:    the centre id, e.g. shymkent-csu-2
//	Saqshy-Key:       the key id: [Fingerprint] of the gateway's public key (16 hex digits)
//	Saqshy-Seq:       the sequence number, 1 for the first link of a chain
//	Saqshy-Prev:      sha256 of the previous link's message (64 hex digits; 64 zeros for seq 1)
//	Saqshy-Body:      sha256 of the uncompressed request body (64 hex digits)
//	Saqshy-Signature: Ed25519 signature of the link's message, base64 (standard, padded)
//
// The signed message ([Link.Message]) is the UTF-8 text
//
//	saqshy-link-v1\n<centre>\n<key>\n<seq>\n<prev>\n<body sha256>\n<precision>\n
//
// where precision is the request's precision query parameter ("ns" when absent). The
// link's hash ([Link.Hash]), which the next link names as Prev, is sha256 of the
// message: it covers the body through its hash. Ed25519 signatures are
// deterministic, so the same link signed twice has the same bytes.
//
// The body hash is over the uncompressed line protocol: sign before compressing
// (see [Transport]); the ingest decompresses before it hashes.
//
// # The gateway's side
//
// [Chain] keeps the chain's base (the link the next one follows) and the pending
// link (sequence, previous hash and the exact body bytes) in one state file, written
// and fsynced before the request leaves. A SIGKILL or power cut between send and
// answer leaves the pending link on disk; the same body sent again after a restart
// reuses it byte for byte ([Chain.Pending] hands it to the writer to resend first),
// and the ingest accepts that exact resend once. [Transport] is the http.RoundTripper
// that does all of this for influxdb-client-go/v2.
//
// # Identity
//
// [GenerateKey] writes a gateway's Ed25519 key (PKCS #8 PEM, mode 0600);
// [LoadPrivateKey] refuses a key file that group or others can read.
// [PublicKeyString] is the text a registry holds ("ed25519:" + base64 of the 32
// bytes) and [Fingerprint] the short id that goes into every link.
package chain
