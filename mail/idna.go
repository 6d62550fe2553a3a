package mail

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A relay that does not offer SMTPUTF8 (RFC 6531) takes only ASCII
// addresses. A domain in Unicode has an ASCII form that names the same
// domain, its IDNA A-labels (RFC 5890): "exämple.test" is
// "xn--exmple-cua.test". A local part in Unicode has none.
//
// golang.org/x/net/idna is not a dependency of Cognate, so domainToASCII
// does the part of IDNA that needs no mapping tables: NFC, lower-case ASCII
// letters, Punycode (RFC 3492). A label that would need more (an upper-case
// letter outside ASCII, a compatibility character such as a full-width
// letter, a symbol, a joiner) is refused rather than guessed, because a
// guess could name another domain. Such an address still goes through a
// relay that offers SMTPUTF8.

// errNotConvertible is wrapped by domainToASCII's errors.
var errNotConvertible = errors.New("no IDNA A-label form")

// maxDomainLength is the longest domain name in text form (RFC 1035,
// section 2.3.4, without the root's trailing dot).
const maxDomainLength = 253

// domainToASCII returns domain with each label that is not ASCII written
// as an A-label. An ASCII domain is returned as it is.
func domainToASCII(domain string) (string, error) {
	if isASCII(domain) {
		return domain, nil
	}
	if !utf8.ValidString(domain) {
		return "", fmt.Errorf("%w: not UTF-8", errNotConvertible)
	}
	// Each character takes at least one in ASCII: a longer domain cannot
	// fit, and is refused before the quadratic encoding.
	if utf8.RuneCountInString(domain) > maxDomainLength {
		return "", fmt.Errorf("%w: longer than %d characters in ASCII", errNotConvertible, maxDomainLength)
	}
	labels := strings.Split(norm.NFC.String(domain), ".")
	for i, label := range labels {
		if isASCII(label) {
			labels[i] = strings.ToLower(label)
			continue
		}
		a, err := labelToASCII(label)
		if err != nil {
			return "", err
		}
		labels[i] = a
	}
	out := strings.Join(labels, ".")
	if len(out) > maxDomainLength {
		return "", fmt.Errorf("%w: longer than %d characters in ASCII", errNotConvertible, maxDomainLength)
	}
	return out, nil
}

// labelToASCII turns one label with characters outside ASCII, in NFC, into
// its A-label, checking what can be checked without IDNA's tables (RFC
// 5891, section 4.2.3).
func labelToASCII(label string) (string, error) {
	var b strings.Builder
	for i, r := range label {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r < utf8.RuneSelf:
			return "", fmt.Errorf("%w: %q is not allowed in a domain", errNotConvertible, r)
		case unicode.In(r, unicode.Mn, unicode.Mc) && i == 0:
			return "", fmt.Errorf("%w: a label starts with a combining mark", errNotConvertible)
		case unicode.In(r, unicode.Ll, unicode.Lo, unicode.Lm, unicode.Mn, unicode.Mc, unicode.Nd):
			b.WriteRune(r)
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			return "", fmt.Errorf("%w: the upper-case letter %q (write the domain in lower case)", errNotConvertible, r)
		default:
			return "", fmt.Errorf("%w: %U is not a letter, digit or mark", errNotConvertible, r)
		}
	}
	label = b.String()
	if !norm.NFKC.IsNormalString(label) {
		return "", fmt.Errorf("%w: compatibility characters (such as full-width letters)", errNotConvertible)
	}
	if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") || (len(label) >= 4 && label[2:4] == "--") {
		return "", fmt.Errorf("%w: a label starts or ends with a hyphen, or has one in its third and fourth places", errNotConvertible)
	}
	a, err := punycode(label)
	if err != nil {
		return "", err
	}
	a = "xn--" + a
	if len(a) > 63 {
		return "", fmt.Errorf("%w: a label is longer than 63 characters in ASCII", errNotConvertible)
	}
	return a, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Punycode's parameters (RFC 3492, section 5).
const (
	punyBase        = 36
	punyTMin        = 1
	punyTMax        = 26
	punySkew        = 38
	punyDamp        = 700
	punyInitialBias = 72
	punyInitialN    = 128
)

// punycode encodes s (RFC 3492, section 6.3), without the "xn--" prefix.
// Labels are at most 63 characters, so int cannot overflow; the check
// stays for strings that are not labels.
func punycode(s string) (string, error) {
	runes := []rune(s)
	var out []byte
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := punyInitialN, 0, punyInitialBias
	for handled := basic; handled < len(runes); {
		// The smallest code point not yet handled.
		m := int(unicode.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if m-n > (1<<31-1-delta)/(handled+1) {
			return "", fmt.Errorf("%w: too long for Punycode", errNotConvertible)
		}
		delta += (m - n) * (handled + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				continue
			}
			if int(r) > n {
				continue
			}
			q := delta
			for k := punyBase; ; k += punyBase {
				t := min(max(k-bias, punyTMin), punyTMax)
				if q < t {
					break
				}
				out = append(out, punyDigit(t+(q-t)%(punyBase-t)))
				q = (q - t) / (punyBase - t)
			}
			out = append(out, punyDigit(q))
			bias = punyAdapt(delta, handled+1, handled == basic)
			delta = 0
			handled++
		}
		delta++
		n++
	}
	return string(out), nil
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punyAdapt is the bias adaptation of RFC 3492, section 6.1.
func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}
