package mfa_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
)

// Fuzz targets for sealed values: a sealed TOTP secret, signing key or
// legacy pool secret is read back from a data file that anyone with the
// file may have edited. Opening any string either fails, with one of the
// three errors Open documents, or gives back exactly what was sealed under
// the key and associated data; a sealed value with any one byte changed,
// or opened with other associated data, never opens.

func FuzzSealerOpen(f *testing.F) {
	s, err := mfa.NewSealer(testKey(1), testKey(2))
	if err != nil {
		f.Fatal(err)
	}
	old, err := mfa.NewSealer(testKey(2))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("v1.00000000.AAAA", []byte("JBSWY3DPEHPK3PXP"), []byte("totp|acme|sub"), 0, byte('x'), false)
	f.Add("", []byte{}, []byte{}, 3, byte('.'), true)
	f.Add("v1..", []byte("\x00\xff"), []byte("cognate signing key\x00acme\x00k1"), -1, byte('A'), false)
	f.Add("v2.abcdefgh.", []byte("a longer secret that spans several AES blocks"), []byte(nil), 40, byte('\n'), false)
	f.Add("v1.abcdefgh.====", []byte("s"), []byte("ad"), 1_000_000, byte(0), true)
	f.Fuzz(func(t *testing.T, forged string, plaintext, ad []byte, pos int, b byte, sealedOld bool) {
		// Nobody without the key makes a value that opens.
		if got, err := s.Open(forged, ad); err == nil {
			t.Fatalf("Open(%q) of a value nobody sealed gave %q", forged, got)
		} else if !errors.Is(err, mfa.ErrSealedMalformed) && !errors.Is(err, mfa.ErrSealKeyUnknown) && !errors.Is(err, mfa.ErrSealedInvalid) {
			t.Fatalf("Open(%q): %v, which is none of Open's errors", forged, err)
		}
		_ = s.NeedsReseal(forged)

		sealer := s
		if sealedOld {
			sealer = old // sealed under what s holds as its previous key
		}
		sealed, err := sealer.Seal(plaintext, ad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", plaintext, got, err)
		}
		if s.NeedsReseal(sealed) != sealedOld {
			t.Fatalf("NeedsReseal of a value sealed under the previous key %v = %v", sealedOld, !sealedOld)
		}
		if _, err := s.Open(sealed, append(bytes.Clone(ad), 0)); err == nil {
			t.Fatalf("a value sealed with associated data %q opens with %q", ad, append(bytes.Clone(ad), 0))
		}
		if len(sealed) == 0 {
			return
		}
		i := pos % len(sealed)
		if i < 0 {
			i += len(sealed)
		}
		if sealed[i] == b {
			return
		}
		changed := sealed[:i] + string(b) + sealed[i+1:]
		if got, err := s.Open(changed, ad); err == nil {
			t.Fatalf("%q, changed at %d to %q, still opens (to %q)", sealed, i, b, got)
		}
	})
}
