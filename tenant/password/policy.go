package password

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	// ErrPolicy is matched (errors.Is) by every *PolicyError.
	ErrPolicy = errors.New("password: does not meet the policy")
	// ErrInvalidPolicy means a Policy's own settings are out of range.
	ErrInvalidPolicy = errors.New("password: invalid policy")
)

// Bounds of Cognito's PasswordPolicyType and PasswordType.
const (
	MinMinimumLength = 6
	MaxMinimumLength = 99
	MaxHistorySize   = 24
	// MaxLength is the longest password Cognito accepts, in characters.
	MaxLength = 256
)

// Symbols are the characters that count as symbols: exactly Cognito's list,
// including the backtick and the space.
const Symbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

// Policy is a user pool's password policy, as Cognito's PasswordPolicyType
// (TemporaryPasswordValidityDays lives with the tenant settings, since
// nothing here needs it). The zero Policy is not valid; see DefaultPolicy.
type Policy struct {
	MinimumLength    int  `json:"minimum_length"` // 6..99 characters
	RequireUppercase bool `json:"require_uppercase"`
	RequireLowercase bool `json:"require_lowercase"`
	RequireNumbers   bool `json:"require_numbers"`
	RequireSymbols   bool `json:"require_symbols"`
	// HistorySize is how many previous passwords may not be reused, 0..24
	// (Cognito's PasswordHistorySize). See Hasher.NotReused.
	HistorySize int `json:"history_size"`
}

// DefaultPolicy is what Cognito gives a pool created without a policy:
// at least 8 characters with an uppercase and a lowercase letter, a number and
// a symbol, and no history.
func DefaultPolicy() Policy {
	return Policy{
		MinimumLength:    8,
		RequireUppercase: true,
		RequireLowercase: true,
		RequireNumbers:   true,
		RequireSymbols:   true,
	}
}

// Validate reports every setting of p that is out of Cognito's range, each
// wrapping ErrInvalidPolicy.
func (p Policy) Validate() error {
	var errs []error
	if p.MinimumLength < MinMinimumLength || p.MinimumLength > MaxMinimumLength {
		errs = append(errs, fmt.Errorf("%w: minimum length %d is outside %d..%d",
			ErrInvalidPolicy, p.MinimumLength, MinMinimumLength, MaxMinimumLength))
	}
	if p.HistorySize < 0 || p.HistorySize > MaxHistorySize {
		errs = append(errs, fmt.Errorf("%w: history size %d is outside 0..%d",
			ErrInvalidPolicy, p.HistorySize, MaxHistorySize))
	}
	return errors.Join(errs...)
}

// Rule names one requirement a password failed. Its value is a stable,
// machine-readable key: front ends translate it, so never change one.
type Rule string

// The rules, in the order Check reports them.
const (
	RuleTooShort   Rule = "too_short"         // fewer than MinimumLength characters
	RuleTooLong    Rule = "too_long"          // more than MaxLength characters
	RuleUppercase  Rule = "missing_uppercase" // no A–Z
	RuleLowercase  Rule = "missing_lowercase" // no a–z
	RuleNumber     Rule = "missing_number"    // no 0–9
	RuleSymbol     Rule = "missing_symbol"    // none of Symbols
	RuleWhitespace Rule = "edge_whitespace"   // starts or ends with whitespace
	RuleCharacters Rule = "characters"        // a control character, or bytes that are not UTF-8
	RuleReused     Rule = "reused"            // one of the last HistorySize passwords
)

// describe is the English for logs and Error; people read translations of
// the Rule, chosen by the front end.
func (r Rule) describe() string {
	switch r {
	case RuleTooShort:
		return "too short"
	case RuleTooLong:
		return fmt.Sprintf("longer than %d characters", MaxLength)
	case RuleUppercase:
		return "no uppercase letter"
	case RuleLowercase:
		return "no lowercase letter"
	case RuleNumber:
		return "no number"
	case RuleSymbol:
		return "no symbol"
	case RuleWhitespace:
		return "starts or ends with whitespace"
	case RuleCharacters:
		return "holds a control character or bytes that are not text"
	case RuleReused:
		return "used before"
	}
	return string(r)
}

// PolicyError lists every rule a password failed, so a form can show them
// all at once. It matches ErrPolicy.
type PolicyError struct {
	Rules []Rule
}

func (e *PolicyError) Error() string {
	parts := make([]string, len(e.Rules))
	for i, r := range e.Rules {
		parts[i] = r.describe()
	}
	return ErrPolicy.Error() + ": " + strings.Join(parts, ", ")
}

// Is makes errors.Is(err, ErrPolicy) true.
func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

// Has reports whether r is among the failed rules.
func (e *PolicyError) Has(r Rule) bool {
	for _, got := range e.Rules {
		if got == r {
			return true
		}
	}
	return false
}

// Check returns nil when password satisfies p, otherwise a *PolicyError with
// every rule it fails. (RuleReused needs the stored hashes; see
// Hasher.NotReused.)
//
// As in Cognito, lengths count characters (runes), and only Basic Latin
// letters and digits count: "É" is neither uppercase nor a symbol. Inner
// spaces are allowed, as newer Cognito allows them, but leading or trailing
// whitespace is refused: it is nearly always a copy-paste accident that
// would make the password impossible to type again.
func (p Policy) Check(password string) error {
	var failed []Rule
	n := utf8.RuneCountInString(password)
	// The empty password is refused even by a (invalid) zero Policy.
	if n < p.MinimumLength || n == 0 {
		failed = append(failed, RuleTooShort)
	}
	if n > MaxLength {
		failed = append(failed, RuleTooLong)
	}

	var upper, lower, number, symbol bool
	for _, r := range password {
		switch {
		case 'A' <= r && r <= 'Z':
			upper = true
		case 'a' <= r && r <= 'z':
			lower = true
		case '0' <= r && r <= '9':
			number = true
		case strings.ContainsRune(Symbols, r):
			symbol = true
		}
	}
	if p.RequireUppercase && !upper {
		failed = append(failed, RuleUppercase)
	}
	if p.RequireLowercase && !lower {
		failed = append(failed, RuleLowercase)
	}
	if p.RequireNumbers && !number {
		failed = append(failed, RuleNumber)
	}
	if p.RequireSymbols && !symbol {
		failed = append(failed, RuleSymbol)
	}

	first, _ := utf8.DecodeRuneInString(password)
	last, _ := utf8.DecodeLastRuneInString(password)
	if n > 0 && (unicode.IsSpace(first) || unicode.IsSpace(last)) {
		failed = append(failed, RuleWhitespace)
	}
	// A password must be typed again: one with a byte that is not UTF-8,
	// or a control character, can be sent by a script but no keyboard.
	if !utf8.ValidString(password) || strings.ContainsFunc(password, unicode.IsControl) {
		failed = append(failed, RuleCharacters)
	}

	if len(failed) > 0 {
		return &PolicyError{Rules: failed}
	}
	return nil
}
