package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The tokens the library makes for the code and refresh grants take
// Cognito's shape here (COGNITO.md §6.2, §6.3): the ID token's aud is the
// client's ID as a JSON string, and the access token has no aud at all,
// only client_id. Relying parties built for Cognito compare aud with the
// client's ID as a string (AWS's own sample verifier does), or check it
// only when it is there; either refuses an array. The library cannot be
// told: its claims types always write aud, always as an array, always
// with the client's ID.
//
// Signing each token twice, once by the library and once here, would
// double the cost of a sign-in's RS256 signatures, which are what a code
// exchange spends most on. So while the library answers (libraryToken),
// storage.SigningKey gives it a key that does not sign (unsignedKey): its
// tokens come out with an empty signature, and finish edits their claims
// and signs each once, with the tenant's key, as machine tokens are
// signed (signingKey.sign). Should a token of the library ever get past
// finish, it verifies nowhere. Nothing of Cognate's checks an access
// token's aud: the library's access-token verifier, behind userinfo,
// introspection and revocation, checks issuer, signature and expiry, and
// each tenant has its own issuer and keys.

// deferredSigning is what libraryToken puts in the context of the
// library's token request: the key the library asked storage for, which
// signs its tokens once finish has shaped them.
type deferredSigning struct {
	key *signingKey
}

type deferredSigningKey struct{}

// withDeferredSigning returns ctx, in which storage.SigningKey gives the
// library an unsignedKey and records the real one in d.
func withDeferredSigning(ctx context.Context, d *deferredSigning) context.Context {
	return context.WithValue(ctx, deferredSigningKey{}, d)
}

// signingKeyFor is the key storage.SigningKey gives the library in ctx:
// k itself, or, under deferred signing, a key that does not sign.
func signingKeyFor(ctx context.Context, k *signingKey) op.SigningKey {
	d, ok := ctx.Value(deferredSigningKey{}).(*deferredSigning)
	if !ok {
		return k
	}
	d.key = k
	return unsignedKey{k}
}

// finish shapes and signs the tokens of resp, the library's answer.
func (d *deferredSigning) finish(resp *oidc.AccessTokenResponse) error {
	if d.key == nil {
		return errors.New("the library issued tokens without asking for a signing key")
	}
	if resp.AccessToken == "" {
		return errors.New("the library's answer has no access token")
	}
	var err error
	resp.AccessToken, err = d.sign(resp.AccessToken, func(claims map[string]json.RawMessage) error {
		delete(claims, "aud")
		return nil
	})
	if err != nil {
		return fmt.Errorf("access token: %w", err)
	}
	if resp.IDToken == "" {
		return nil
	}
	resp.IDToken, err = d.sign(resp.IDToken, func(claims map[string]json.RawMessage) error {
		var aud []string
		if err := json.Unmarshal(claims["aud"], &aud); err != nil {
			return fmt.Errorf("aud: %w", err)
		}
		if len(aud) == 1 {
			claims["aud"], _ = json.Marshal(aud[0])
		}
		if _, ok := claims["at_hash"]; ok {
			// Of the access token as it is sent.
			atHash, err := oidc.ClaimHash(resp.AccessToken, d.key.alg)
			if err != nil {
				return fmt.Errorf("at_hash: %w", err)
			}
			claims["at_hash"], _ = json.Marshal(atHash)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ID token: %w", err)
	}
	return nil
}

// sign edits the claims of token, one the library made with an
// unsignedKey, and signs them.
func (d *deferredSigning) sign(token string, edit func(map[string]json.RawMessage) error) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] != "" {
		return "", errors.New("not a JWS without a signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	if err := edit(claims); err != nil {
		return "", err
	}
	if payload, err = json.Marshal(claims); err != nil {
		return "", err
	}
	return d.key.sign(payload)
}

// unsignedKey is what the library signs with under deferred signing: k's
// algorithm and ID, and a signer that makes an empty signature.
type unsignedKey struct{ k *signingKey }

func (u unsignedKey) SignatureAlgorithm() jose.SignatureAlgorithm { return u.k.alg }
func (u unsignedKey) ID() string                                  { return u.k.id }
func (u unsignedKey) Key() any                                    { return noSignature(u) }

// noSignature is the jose.OpaqueSigner of an unsignedKey.
type noSignature struct{ k *signingKey }

func (n noSignature) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: n.k.priv.Public(), KeyID: n.k.id, Algorithm: string(n.k.alg), Use: "sig"}
}

func (n noSignature) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{n.k.alg} }

func (noSignature) SignPayload([]byte, jose.SignatureAlgorithm) ([]byte, error) { return nil, nil }
