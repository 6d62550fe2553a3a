package password

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	def := DefaultPolicy()
	lax := Policy{MinimumLength: 6}
	tests := []struct {
		name     string
		policy   Policy
		password string
		want     []Rule // nil: passes
	}{
		{"default, good", def, "Passw0rd!", nil},
		{"default, exactly 8", def, "Pa1!wxyz", nil},
		{"default, 7", def, "Pa1!wxy", []Rule{RuleTooShort}},
		{"default, empty", def, "", []Rule{RuleTooShort, RuleUppercase, RuleLowercase, RuleNumber, RuleSymbol}},
		{"default, no uppercase", def, "passw0rd!", []Rule{RuleUppercase}},
		{"default, no lowercase", def, "PASSW0RD!", []Rule{RuleLowercase}},
		{"default, no number", def, "Password!", []Rule{RuleNumber}},
		{"default, no symbol", def, "Passw0rdd", []Rule{RuleSymbol}},
		{"default, several", def, "abc", []Rule{RuleTooShort, RuleUppercase, RuleNumber, RuleSymbol}},
		{"256 characters", def, "Aa1!" + strings.Repeat("x", 252), nil},
		{"257 characters", def, "Aa1!" + strings.Repeat("x", 253), []Rule{RuleTooLong}},
		{"length counts characters, not bytes", Policy{MinimumLength: 8}, "ééééééé", []Rule{RuleTooShort}},
		{"256 two-byte characters", lax, strings.Repeat("é", 256), nil},
		{"257 two-byte characters", lax, strings.Repeat("é", 257), []Rule{RuleTooLong}},

		// Letters are Basic Latin only, as in Cognito.
		{"non-Latin letters are not letters", def, "ÄÖÜäöü1!", []Rule{RuleUppercase, RuleLowercase}},
		{"fullwidth digits are not numbers", def, "Password!１", []Rule{RuleNumber}},
		{"other punctuation is not a symbol", def, "Passw0rd€§", []Rule{RuleSymbol}},

		// Whitespace: inner spaces are fine (and count as a symbol), edges not.
		{"inner space is a symbol", def, "Pass w0rd", nil},
		{"leading space", def, " Passw0rd!", []Rule{RuleWhitespace}},
		{"trailing space", def, "Passw0rd! ", []Rule{RuleWhitespace}},
		{"trailing tab", def, "Passw0rd!\t", []Rule{RuleWhitespace, RuleCharacters}},
		{"trailing newline", def, "Passw0rd!\n", []Rule{RuleWhitespace, RuleCharacters}},
		{"a control character", def, "Abcdefg1!\x01", []Rule{RuleCharacters}},
		{"an escape sequence inside", def, "Pass\x1b[31mw0rd!", []Rule{RuleCharacters}},
		{"bytes that are not UTF-8", def, "Passw0rd!\xff\xfe", []Rule{RuleCharacters}},
		{"letters beyond ASCII", def, "Pässw0rd!ü", nil},
		{"leading no-break space", def, "\u00a0Passw0rd!", []Rule{RuleWhitespace}},
		{"only spaces", lax, "        ", []Rule{RuleWhitespace}},

		// Requirements switched off.
		{"lax, lowercase only", lax, "abcdef", nil},
		{"lax, 5", lax, "abcde", []Rule{RuleTooShort}},
		{"lax still refuses empty", Policy{}, "", []Rule{RuleTooShort}},
		{"numbers only", Policy{MinimumLength: 6, RequireNumbers: true}, "123456", nil},
		{"99 characters required", Policy{MinimumLength: 99}, strings.Repeat("a", 98), []Rule{RuleTooShort}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.password)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check = %v, want a *PolicyError", err)
			}
			if !slices.Equal(pe.Rules, tt.want) {
				t.Errorf("Rules = %v, want %v", pe.Rules, tt.want)
			}
			if !errors.Is(err, ErrPolicy) {
				t.Error("errors.Is(err, ErrPolicy) = false")
			}
		})
	}
}

func TestPolicySymbols(t *testing.T) {
	// Each of Cognito's symbols, and nothing else in printable ASCII,
	// satisfies RequireSymbols.
	p := Policy{MinimumLength: 6, RequireSymbols: true}
	for c := byte(0x20); c < 0x7f; c++ {
		pw := "abc" + string(c) + "def" // inside, so the space is not at an edge
		isSymbol := strings.IndexByte(Symbols, c) >= 0
		err := p.Check(pw)
		if isSymbol && err != nil {
			t.Errorf("%q: Check = %v, want nil", c, err)
		}
		if !isSymbol && c != ' ' && err == nil {
			t.Errorf("%q counts as a symbol", c)
		}
	}
	if n := len(Symbols); n != 33 {
		t.Errorf("Symbols has %d characters, Cognito's list has 32 and the space", n)
	}
}

func TestPolicyError(t *testing.T) {
	err := DefaultPolicy().Check("abc")
	want := "password: does not meet the policy: too short, no uppercase letter, no number, no symbol"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
	var pe *PolicyError
	if !errors.As(err, &pe) || !pe.Has(RuleNumber) || pe.Has(RuleLowercase) {
		t.Errorf("Has: rules are %v", pe.Rules)
	}
	// A wrapped PolicyError still matches.
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, ErrPolicy) || !errors.As(wrapped, &pe) {
		t.Error("wrapped PolicyError does not match")
	}
	// The history check is reported with the same type.
	reused := &PolicyError{Rules: []Rule{RuleReused}}
	if !errors.Is(reused, ErrPolicy) || !strings.HasSuffix(reused.Error(), "used before") {
		t.Errorf("reused: %v", reused)
	}
}

func TestRuleKeysAreStable(t *testing.T) {
	// Front ends translate these keys and may store them; renaming one is a
	// breaking change, which this test makes deliberate.
	want := map[Rule]string{
		RuleTooShort:   "too_short",
		RuleTooLong:    "too_long",
		RuleUppercase:  "missing_uppercase",
		RuleLowercase:  "missing_lowercase",
		RuleNumber:     "missing_number",
		RuleSymbol:     "missing_symbol",
		RuleWhitespace: "edge_whitespace",
		RuleCharacters: "characters",
		RuleReused:     "reused",
	}
	for r, s := range want {
		if string(r) != s {
			t.Errorf("%s = %q, want %q", s, r, s)
		}
		if r.describe() == string(r) {
			t.Errorf("%s has no English description", r)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		errs   int // how many problems are reported
	}{
		{"default", DefaultPolicy(), 0},
		{"min 6", Policy{MinimumLength: 6}, 0},
		{"min 99, history 24", Policy{MinimumLength: 99, HistorySize: 24}, 0},
		{"zero policy", Policy{}, 1},
		{"min 5", Policy{MinimumLength: 5}, 1},
		{"min 100", Policy{MinimumLength: 100}, 1},
		{"history -1", Policy{MinimumLength: 8, HistorySize: -1}, 1},
		{"history 25", Policy{MinimumLength: 8, HistorySize: 25}, 1},
		{"both wrong", Policy{MinimumLength: 200, HistorySize: 25}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.errs == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate = %v, want ErrInvalidPolicy", err)
			}
			if n := strings.Count(err.Error(), ErrInvalidPolicy.Error()); n != tt.errs {
				t.Errorf("Validate reported %d problems, want %d: %v", n, tt.errs, err)
			}
		})
	}
}

func TestPolicyJSON(t *testing.T) {
	// Policies are stored in tenant records: the field names are a format.
	b, err := json.Marshal(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"minimum_length":8,"require_uppercase":true,"require_lowercase":true,"require_numbers":true,"require_symbols":true,"history_size":0}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil || back != DefaultPolicy() {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}
