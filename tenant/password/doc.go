// Package password hashes and verifies user passwords, checks them against a
// tenant's Cognito-style password policy, and generates temporary passwords.
//
// It knows nothing of users, storage or HTTP: it must not import net/http or
// any other Cognate package. Callers store the strings it returns and hand
// them back; a wrong password is an outcome (ok == false), never an error.
//
// # Hash formats
//
// New hashes are always argon2id in the PHC string format, with
// base64.RawStdEncoding (standard alphabet, no padding), a 16-byte salt from
// crypto/rand and a 32-byte key:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// m is memory in KiB, t the number of passes, p the parallelism. The default
// parameters are OWASP's argon2id minimum (m=19456, t=2, p=1).
//
// Verify also accepts hashes imported from other systems, so users can sign in
// once with their old password and be migrated to argon2id (needsRehash):
//
//	$2a$NN$..., $2b$NN$..., $2y$NN$...        bcrypt, as crypt(3) writes it
//	$scrypt$ln=15,r=8,p=1$<salt>$<key>        scrypt, N = 2^ln
//	$pbkdf2-sha256$i=310000$<salt>$<key>      PBKDF2-HMAC-SHA256
//	pbkdf2_sha256$<iterations>$<salt>$<key>   Django's PBKDF2-HMAC-SHA256
//
// In the $scrypt$ and $pbkdf2-sha256$ forms, which this package defines, salt
// and key are base64.RawStdEncoding like argon2id, the key length is the
// length of the decoded key, and parameters appear exactly in the order shown.
// The Django form is Django's own: the salt is the literal (ASCII) salt
// string and the key is padded standard base64 (base64.StdEncoding).
//
// Parsing is strict: unknown variants, versions, parameter names, leading
// zeros, non-canonical base64 or stray whitespace make a hash malformed.
//
// # Cost limits
//
// A stored hash chooses how much work its verification takes, so each scheme
// has limits; a hash beyond them is refused as malformed rather than allowed
// to tie up a CPU or hundreds of MiB for seconds:
//
//	argon2id  m ≤ 262144 KiB (256 MiB), t ≤ 10, p ≤ 16, m ≥ 8·p
//	bcrypt    cost ≤ 14
//	scrypt    ln ≤ 20, r ≤ 32, p ≤ 16, 128·r·N ≤ 256 MiB, N·r·p ≤ 2^22
//	PBKDF2    iterations ≤ 4,000,000
//
// Key lengths must be 16 to 64 bytes, salts 1 to 64 bytes (argon2id: 8 to 64).
//
// Every hash computation, of any scheme, takes a slot of the Hasher's
// semaphore first, so a login storm queues instead of exhausting memory.
package password
