package mail

import (
	"errors"
	"strings"
	"testing"
)

// The samples of RFC 3492, section 7.1, and a few more.
func TestPunycode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
		{"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
		{"\u4ED6\u5011\u7232\u4EC0\u9EBD\u4E0D\u8AAA\u4E2D\u6587", "ihqwctvzc91f659drss3x8bo0yb"},
		{"Pro\u010Dprost\u011Bnemluv\u00ED\u010Desky", "Proprostnemluvesky-uyb24dma41a"},
		{"\u05DC\u05DE\u05D4\u05D4\u05DD\u05E4\u05E9\u05D5\u05D8\u05DC\u05D0\u05DE\u05D3\u05D1\u05E8\u05D9\u05DD\u05E2\u05D1\u05E8\u05D9\u05EA", "4dbcagdahymbxekheh6e0a7fei0b"},
		{"\u092F\u0939\u0932\u094B\u0917\u0939\u093F\u0928\u094D\u0926\u0940\u0915\u094D\u092F\u094B\u0902\u0928\u0939\u0940\u0902\u092C\u094B\u0932\u0938\u0915\u0924\u0947\u0939\u0948\u0902", "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd"},
		{"Porqu\u00E9nopuedensimplementehablarenEspa\u00F1ol", "PorqunopuedensimplementehablarenEspaol-fmd56a"},
		{"T\u1EA1isaoh\u1ECDkh\u00F4ngth\u1EC3ch\u1EC9n\u00F3iti\u1EBFngVi\u1EC7t", "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g"},
		{"3\u5E74B\u7D44\u91D1\u516B\u5148\u751F", "3B-ww4c5e180e575a65lsy2b"},
		{"\u3072\u3068\u3064\u5C4B\u6839\u306E\u4E0B2", "2-u9tlzr9756bt3uc0v"},
		{"Maji\u3067Koi\u3059\u308B5\u79D2\u524D", "MajiKoi5-783gue6qz075azm5e"},
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
	}
	for _, tt := range tests {
		if got, err := punycode(tt.in); err != nil || got != tt.want {
			t.Errorf("punycode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// A domain outside ASCII is written in A-labels when that is sure to name
// the same domain, and refused when it would take a guess.
func TestDomainToASCII(t *testing.T) {
	tests := []struct {
		in, want string // want empty: refused
	}{
		{"example.test", "example.test"},
		{"Example.TEST", "Example.TEST"}, // ASCII goes as it is
		{"exämple.test", "xn--exmple-cua.test"},
		{"EXäMPLE.Test", "xn--exmple-cua.test"},
		{"exa\u0308mple.test", "xn--exmple-cua.test"}, // decomposed: NFC first
		{"bücher.münchen.de", "xn--bcher-kva.xn--mnchen-3ya.de"},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{"ελληνικά.test", "xn--hxargifdar.test"},
		{"EXÄMPLE.test", ""},       // upper case outside ASCII
		{"ｅxämple.test", ""},       // full-width letter
		{"ex\u200dämple.test", ""}, // joiner
		{"☃.test", ""},             // symbol
		{"\u0308ab.test", ""},      // starts with a mark
		{"-exämple.test", ""},
		{"exämple-.test", ""},
		{"ex_ämple.test", ""},
		{"ä" + strings.Repeat("a", 62) + ".test", ""}, // over 63 in ASCII
		{strings.Repeat("ä.", 127) + "test", ""},      // over 253
	}
	for _, tt := range tests {
		got, err := domainToASCII(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, errNotConvertible):
			t.Errorf("domainToASCII(%q) = %q, %v; want it refused", tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("domainToASCII(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
