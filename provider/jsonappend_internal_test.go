package provider

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"testing"
)

// encodingJSON is what encoding/json writes for v with HTML escaping off,
// without the encoder's newline: what the appenders must write too.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var awkwardStrings = []string{
	"", "plain", `quote " and backslash \`, "controls \x00\x01\x1f\x7f\b\f\n\r\t",
	"html <script>&amp;</script>", "unicode é ü 日本 🙂", "separators \u2028 \u2029",
	"invalid \xff\xfe utf-8 \xc3", "cut rune \xe6\x97", "https://acme.example.com:8443/x?y=z",
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString([]byte("prefix:"), s)
		if want := append([]byte("prefix:"), encodingJSON(t, s)...); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func TestMachineJSONIsEncodingJSONs(t *testing.T) {
	for _, s := range awkwardStrings {
		claims := machineClaims{Issuer: s, Subject: s, Expiry: 1 << 40, IssuedAt: -1,
			JWTID: s, ClientID: s, TokenUse: "access", Scope: s}
		responses := []tokenResponse{
			{AccessToken: s, TokenType: "Bearer", ExpiresIn: 3600, Scope: s},
			{AccessToken: s, TokenType: "Bearer"}, // no scope: left out
		}
		cases := []struct {
			got []byte
			v   any
		}{
			{claims.appendJSON(nil), claims},
			{machineClaims{}.appendJSON(nil), machineClaims{}},
			{responses[0].appendJSON(nil), responses[0]},
			{responses[1].appendJSON(nil), responses[1]},
		}
		for _, c := range cases {
			if want := encodingJSON(t, c.v); !bytes.Equal(c.got, want) {
				t.Errorf("appendJSON of %#v:\n got %s\nwant %s", c.v, c.got, want)
			}
		}
	}
}

func TestJOSEECDSASignature(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	// Enough signatures that some r or s has leading zero bytes, which the
	// DER leaves out and JWS keeps (one in 128 per integer).
	for range 1000 {
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig, err := joseECDSASignature(der, 32)
		if err != nil {
			t.Fatal(err)
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if len(sig) != 64 || !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
			t.Fatalf("%x (from DER %x) does not verify", sig, der)
		}
	}

	refused := map[string][]byte{
		"empty":             {},
		"trailing bytes":    {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"third integer":     {0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"negative r":        {0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01},
		"r longer than 32":  append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, append(make([]byte, 32), 0x02, 0x01, 0x01)...),
		"not a sequence":    {0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"one integer only":  {0x30, 0x03, 0x02, 0x01, 0x01},
		"octets, not ints":  {0x30, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01, 0x01},
		"length past input": {0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
	}
	for name, der := range refused {
		if sig, err := joseECDSASignature(der, 32); err == nil {
			t.Errorf("%s: DER %x gave signature %x, want an error", name, der, sig)
		}
	}
}
