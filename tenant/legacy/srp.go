package legacy

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Cognito's Secure Remote Password protocol, for app clients that allow
// only USER_SRP_AUTH. It is SRP-6a (RFC 5054's group and hash) with
// Cognito's own choices, which every client SDK repeats (the Amplify and
// Android SDKs, pycognito, Soto):
//
//   - N is the 3072-bit group of RFC 5054 (RFC 3526's MODP group 15), g = 2,
//     H is SHA-256, and k = H(N | g).
//   - Numbers are hashed as big-endian bytes with a leading zero byte when
//     the top bit is set ("padHex" in those SDKs: the two's complement sign
//     byte of Java's BigInteger).
//   - The password hash is x = H(salt | H(poolName | userId | ":" | password)),
//     poolName being the part of the pool ID after the underscore and
//     userId Cognito's USER_ID_FOR_SRP.
//   - The session key is 16 bytes of HKDF-SHA256 with S as the secret, u as
//     the salt and "Caldera Derived Key" as the info.
//   - The proof is HMAC-SHA256(key, poolName | userId | secretBlock |
//     timestamp), the timestamp in the form "Mon Jan 2 15:04:05 UTC 2006"
//     with the day of the month not padded (Cognito refuses "Jan 02").
//
// cognito-local does not implement SRP, so the tests check this against the
// Soto project's published vectors and a verifier of their own.

// srpN is the 3072-bit prime of RFC 5054, appendix A.
var srpN = mustHex("" +
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9" +
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64" +
	"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B" +
	"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31" +
	"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF")

var (
	srpG = big.NewInt(2)
	// srpK is k = H(N | g).
	srpK = hashInts(srpN, srpG)
)

// srpInfo is the HKDF info of Cognito's session key.
const srpInfo = "Caldera Derived Key"

// srpTimestampLayout is Cognito's TIMESTAMP: the day is not padded.
const srpTimestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// srpTimestamp formats t as Cognito wants it, in UTC.
func srpTimestamp(t time.Time) string { return t.UTC().Format(srpTimestampLayout) }

var errSRP = errors.New("SRP")

// srpClient is one SRP exchange: the secret a and the public A = g^a.
type srpClient struct {
	a, A *big.Int
}

// newSRPClient draws a fresh a (128 random bytes, as the SDKs do).
func newSRPClient(rand io.Reader) (*srpClient, error) {
	buf := make([]byte, 128)
	for range 8 {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, fmt.Errorf("%w: random a: %w", errSRP, err)
		}
		a := new(big.Int).Mod(new(big.Int).SetBytes(buf), srpN)
		if c, ok := srpClientFor(a); ok {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no usable a", errSRP)
}

// srpClientFor is the exchange with secret a; ok is false for an a whose A
// the server would refuse.
func srpClientFor(a *big.Int) (*srpClient, bool) {
	A := new(big.Int).Exp(srpG, a, srpN)
	if a.Sign() == 0 || A.Sign() == 0 {
		return nil, false
	}
	return &srpClient{a: a, A: A}, true
}

// passwordKey derives the session key from the server's B and salt, the
// user's identity and password.
func (c *srpClient) passwordKey(poolName, userID, password string, B, salt *big.Int) ([]byte, error) {
	if new(big.Int).Mod(B, srpN).Sign() == 0 {
		return nil, fmt.Errorf("%w: B is 0 mod N", errSRP)
	}
	u := hashInts(c.A, B)
	if u.Sign() == 0 {
		return nil, fmt.Errorf("%w: u is 0", errSRP)
	}
	x := srpX(poolName, userID, password, salt)
	// S = (B - k·g^x) ^ (a + u·x) mod N
	base := new(big.Int).Exp(srpG, x, srpN)
	base.Mul(base, srpK)
	base.Sub(B, base)
	base.Mod(base, srpN)
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, c.a)
	S := new(big.Int).Exp(base, exp, srpN)
	return srpSessionKey(S, u)
}

// srpX is the password's private value, x = H(salt | H(poolName | userId |
// ":" | password)).
func srpX(poolName, userID, password string, salt *big.Int) *big.Int {
	inner := sha256.Sum256([]byte(poolName + userID + ":" + password))
	h := sha256.New()
	h.Write(padded(salt))
	h.Write(inner[:])
	return new(big.Int).SetBytes(h.Sum(nil))
}

// srpSessionKey is the 16-byte key both sides derive from S and u.
func srpSessionKey(S, u *big.Int) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, padded(S), padded(u), srpInfo, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: hkdf: %w", errSRP, err)
	}
	return key, nil
}

// passwordClaim is PASSWORD_CLAIM_SIGNATURE, base64.
func passwordClaim(key []byte, poolName, userID string, secretBlock []byte, timestamp string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(poolName))
	mac.Write([]byte(userID))
	mac.Write(secretBlock)
	mac.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// hashInts is H(pad(a) | pad(b)) as a number.
func hashInts(a, b *big.Int) *big.Int {
	h := sha256.New()
	h.Write(padded(a))
	h.Write(padded(b))
	return new(big.Int).SetBytes(h.Sum(nil))
}

// padded is n's big-endian bytes, with a zero byte in front when the top
// bit is set, as Cognito hashes numbers.
func padded(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

// parseHexInt reads a hexadecimal number as Cognito sends SRP_B and SALT.
func parseHexInt(s string) (*big.Int, bool) {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok || n.Sign() < 0 {
		return nil, false
	}
	return n, true
}

func mustHex(s string) *big.Int {
	n, ok := parseHexInt(s)
	if !ok {
		panic("legacy: bad hex constant")
	}
	return n
}
