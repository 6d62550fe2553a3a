package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Deferred signing fails closed: the library gets a key that does not sign
// only inside libraryToken's context; what it signs with it has an empty
// signature, which finish signs once shaped; and finish refuses a token it
// did not see unsigned, or tokens when no key was asked for.
func TestDeferredSigningFailsClosed(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &signingKey{id: "k1", alg: jose.ES256, priv: priv}
	k.jwsHeader = jwsHeader(k)

	if got := signingKeyFor(context.Background(), k); got != op.SigningKey(k) {
		t.Fatalf("outside libraryToken the library is given %T, want the tenant's key", got)
	}

	d := new(deferredSigning)
	lent := signingKeyFor(withDeferredSigning(context.Background(), d), k)
	if d.key != k {
		t.Fatal("the key the library asked for is not recorded")
	}
	signer, err := op.SignerFromKey(lent)
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := crypto.Sign(map[string]any{"aud": []string{"app"}, "sub": "ann"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(unsigned, ".") {
		t.Fatalf("the lent key signed: %s", unsigned)
	}

	signed, err := d.sign(unsigned, func(map[string]json.RawMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(signed, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(priv.Public()); err != nil {
		t.Errorf("the token finish signed does not verify: %v", err)
	}
	if _, err := d.sign(signed, func(map[string]json.RawMessage) error { return nil }); err == nil {
		t.Error("a signed token was signed again")
	}
	if err := new(deferredSigning).finish(&oidc.AccessTokenResponse{AccessToken: unsigned}); err == nil {
		t.Error("tokens were signed with no key asked for")
	}
}
