package legacy

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

// Published vectors of Cognito's SRP variant, from the Soto project's tests
// (soto-project/soto-cognito-authentication-kit,
// Tests/SotoCognitoAuthenticationKitTests/SRPTests.swift): a fixed secret
// a, the A it gives, and the key for pool "poolid", user "testuser",
// password "testpassword", a server B and a salt. Soto signs in to real
// Cognito with this code, so matching it checks N, g, k, the padding of
// numbers, x and the HKDF against Cognito itself.
const (
	sotoA = "37981750af33fdf93fc6dce831fe794aba312572e7c33472528" +
		"54e5ce7c7f40343f5ad82f9ad3585c8cb1184c54c562f8317fc" +
		"2924c6c7ade72f1e8d964f606e040c8f9f0b12e3fe6b6828202" +
		"a5e40ca0103e880531921e56de3acc410331b8e5ddcd0dbf249" +
		"bfa104f6b797719613aa50eabcdb40fd5457f64861dd71890eba"
	sotoBigA = "f93b917abccc667f4fac29d1e4c111bcd37d2c37577e7f113ad85030ec6" +
		"157c70dfee728ac4aee9a7631d85a68aec3ef72864b6e8a134f5c5eef89" +
		"40b93bb1db1ada9c1de770db282d644eeb3c551d35ce8de4d2cf98d0d79" +
		"9b6a7f1fe51568d11162ce0cded8246b630169dcfc2d5a43817d52f121b" +
		"3d75ab1a43dc30b7cec02e42e332d5fd781023d9c1fd44f3d1129d21155" +
		"0ce57c004aca95a367592705b517298f724e6314ffbac2425b2beb5095f" +
		"23b75dd3dd232adda700080d7a22a87383d3746d39f6427b7daf2a00683" +
		"038ff7dc099081b2bf43eb5e2e30465487dafb3cc875fdd9b475d46a0ac" +
		"1d07cf928fd11e06c5999596160168fc31228f7f3329d4b873acbf1540a" +
		"16418a3ee5a0a5070a3db558f5cf8cf15388ff0a6e4234bf1de3e5bade8" +
		"e4aa607d633a94a06bee4386c7444e06fd584282b9d576be318f0f20305" +
		"7e80996f79a2bb0a63ad4786d5cc12b1321bd6644e001cee194171f5b04" +
		"fcd65f3f280b6dadabae0401a9ae557ad27939730ce146319aa7f08d1e33"
	sotoB = "a0812a0ee3fa8484a73addeb6a9afa145cff1eca2a6b86537a5d15132d" +
		"5811dd088d16e7d581b2798229350e6e473503cebddf19cabd3f14fb34" +
		"50a6858bafc972a29702d8772a22b000a160812a7fe29bcac2c36d43b9" +
		"1c118224626c2f0782d70f79c82ac5183e0d7d8c7b23ad0bda1f4fba94" +
		"1998bfc82e46415e49026bb33f8271cb9a56e69f518e90bc2f4c42c7bb" +
		"27720e25a14dcfbb5176effb3069a2bc627f18ec07a3e4118f61402dda" +
		"56a6da3f331d8c2cf78513d767b2bf040809e5a334c7bb98cb720ef565" +
		"4100cfa57d21155fc7630654964370fd512b30febc6c61bfa3415c7266" +
		"0c5dad3444881d272c3abd7ecec0e483493b1491391bef4348d1c27be7" +
		"00e443301fc856a9d1b6ca36fdc46eec9f3c51f0ea566f5a85c87d395d" +
		"3d9fc2a594945a860841d5b328f1910058b2bb822ac976d961736fac42" +
		"e84b46074762de8b254f37260e3b1da88529dd1060ca52b2dc9de5d773" +
		"72b1d74ea111de406aac964993133a6f172e8fae54eb885e6a3cd774f1" +
		"ca6be98b6ddc35"
	sotoSalt = "8dbcb21f18ae3216"
	sotoKey  = "b70fad71e9658b24b0ec678774ecca30"
)

func TestSRPPublishedVectors(t *testing.T) {
	c, ok := srpClientFor(mustHex(sotoA))
	if !ok {
		t.Fatal("the vector's a was refused")
	}
	if got := c.A.Text(16); got != sotoBigA {
		t.Fatalf("A = %s\nwant %s", got, sotoBigA)
	}
	key, err := c.passwordKey("poolid", "testuser", "testpassword", mustHex(sotoB), mustHex(sotoSalt))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(key); got != sotoKey {
		t.Errorf("key = %s, want %s", got, sotoKey)
	}
	// Any other password, user or pool gives another key.
	for _, tc := range []struct{ pool, user, pw string }{
		{"poolid", "testuser", "testpassworD"},
		{"poolid", "testuseR", "testpassword"},
		{"poolie", "testuser", "testpassword"},
	} {
		other, err := c.passwordKey(tc.pool, tc.user, tc.pw, mustHex(sotoB), mustHex(sotoSalt))
		if err != nil || bytes.Equal(other, key) {
			t.Errorf("%+v: the same key (%v)", tc, err)
		}
	}
}

// k is H(N | g) with g hashed as one byte, the constant every Cognito SDK
// has (amazon-cognito-identity-js computes it the same way).
func TestSRPConstants(t *testing.T) {
	if srpN.BitLen() != 3072 || !srpN.ProbablyPrime(20) {
		t.Fatalf("N is not a 3072-bit prime")
	}
	// The safe prime's generator: (N-1)/2 is prime too.
	q := new(big.Int).Rsh(srpN, 1)
	if !q.ProbablyPrime(20) {
		t.Errorf("(N-1)/2 is not prime")
	}
	const wantK = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
	if got := srpK.Text(16); got != wantK {
		t.Errorf("k = %s, want %s", got, wantK)
	}
}

func TestSRPRefusesBadServerValues(t *testing.T) {
	c, _ := srpClientFor(mustHex(sotoA))
	for name, B := range map[string]*big.Int{
		"B = 0": big.NewInt(0),
		"B = N": new(big.Int).Set(srpN),
	} {
		if _, err := c.passwordKey("p", "u", "pw", B, big.NewInt(1)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := srpClientFor(big.NewInt(0)); ok {
		t.Error("a = 0 accepted")
	}
}

func TestSRPTimestamp(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), "Mon Jan 2 15:04:05 UTC 2006"},
		// The day is not padded; the time is.
		{time.Date(2026, 11, 5, 3, 7, 9, 999, time.UTC), "Thu Nov 5 03:07:09 UTC 2026"},
		{time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), "Wed Nov 25 23:59:59 UTC 2026"},
		// Another zone is written in UTC.
		{time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "Sat Feb 28 23:30:00 UTC 2026"},
	} {
		if got := srpTimestamp(tc.at); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.at, got, tc.want)
		}
	}
}

func TestPadded(t *testing.T) {
	for _, tc := range []struct{ n, want string }{
		{"0", "00"},
		{"7f", "7f"},
		{"80", "0080"},
		{"abc", "0abc"},
		{"8dbcb21f18ae3216", "008dbcb21f18ae3216"},
	} {
		if got := hex.EncodeToString(padded(mustHex(tc.n))); got != tc.want {
			t.Errorf("padded(%s) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestNewSRPClientDraws(t *testing.T) {
	// A reader that ends is an error, not a weak a.
	if _, err := newSRPClient(strings.NewReader("short")); err == nil {
		t.Error("a short random source was accepted")
	}
	a, err := newSRPClient(bytes.NewReader(bytes.Repeat([]byte{7}, 128)))
	if err != nil || a.A.Sign() <= 0 || a.A.Cmp(srpN) >= 0 {
		t.Errorf("fixed a: %v", err)
	}
}
