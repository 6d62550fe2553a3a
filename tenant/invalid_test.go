package tenant_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
)

// The validators name the rule broken (code and values) for front ends
// that word it themselves, and stay ErrInvalid with the same text for
// everyone else: the texts below are the ones they had before the codes.
func TestValidatorsNameTheRule(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
		args []string
		text string
	}{
		{"empty username", tenant.ValidateUsername(""), tenant.CodeUsernameLength, nil,
			"invalid input: a username must be 1 to 128 characters"},
		{"long username", tenant.ValidateUsername(strings.Repeat("é", 129)), tenant.CodeUsernameLength, nil,
			"invalid input: a username must be 1 to 128 characters"},
		{"username with a space", tenant.ValidateUsername("ann smith"), tenant.CodeUsernameSpaces, nil,
			"invalid input: a username may not contain spaces"},
		{"username with a control character", tenant.ValidateUsername("ann\x00"), tenant.CodeUsernameCharacters, nil,
			"invalid input: a username may hold only letters, digits, symbols and punctuation, nothing invisible"},
		{"username with a zero-width space", tenant.ValidateUsername("admin\u200b"), tenant.CodeUsernameCharacters, nil,
			"invalid input: a username may hold only letters, digits, symbols and punctuation, nothing invisible"},
		{"username with a soft hyphen", tenant.ValidateUsername("bo\u00adb"), tenant.CodeUsernameCharacters, nil,
			"invalid input: a username may hold only letters, digits, symbols and punctuation, nothing invisible"},
		{"username that is not UTF-8", tenant.ValidateUsername("jos\xe9"), tenant.CodeUsernameCharacters, nil,
			"invalid input: a username may hold only letters, digits, symbols and punctuation, nothing invisible"},
		{"username with a no-break space", tenant.ValidateUsername("ann\u00a0smith"), tenant.CodeUsernameSpaces, nil,
			"invalid input: a username may not contain spaces"},
		{"email with a control character", tenant.ValidateEmail("ctl\x01@example.com"), tenant.CodeEmailInvalid, []string{"ctl\x01@example.com"},
			`invalid input: "ctl\x01@example.com" is not an email address`},
		{"email with a NUL after it", tenant.ValidateEmail("x@y.zz\x00foo"), tenant.CodeEmailInvalid, []string{"x@y.zz\x00foo"},
			`invalid input: "x@y.zz\x00foo" is not an email address`},
		{"custom attribute name with a control character", tenant.ValidateAttributes(map[string]string{"custom:a\x00b": "v"}),
			tenant.CodeAttributeCustomName, []string{"custom:a\x00b"},
			`invalid input: attribute name "custom:a\x00b" must be custom:<1 to 25 characters>`},
		{"value with a control character", tenant.ValidateAttributes(map[string]string{"name": "Ann\x1b[31m"}),
			tenant.CodeAttributeNotText, []string{"name"},
			`invalid input: attribute "name" holds control characters or bytes that are not UTF-8 text`},
		{"value that is not UTF-8", tenant.ValidateAttributes(map[string]string{"name": "Ren\xe9"}),
			tenant.CodeAttributeNotText, []string{"name"},
			`invalid input: attribute "name" holds control characters or bytes that are not UTF-8 text`},
		{"email without a domain", tenant.ValidateEmail("dave@example"), tenant.CodeEmailInvalid, []string{"dave@example"},
			`invalid input: "dave@example" is not an email address`},
		{"custom attribute without a name", tenant.ValidateAttributes(map[string]string{"custom:": "x"}),
			tenant.CodeAttributeCustomName, []string{"custom:"},
			`invalid input: attribute name "custom:" must be custom:<1 to 25 characters>`},
		{"unknown attribute", tenant.ValidateAttributes(map[string]string{"shoe_size": "44"}),
			tenant.CodeAttributeUnknown, []string{"shoe_size"},
			`invalid input: "shoe_size" is not a standard attribute (custom attributes start with "custom:")`},
		{"long value", tenant.ValidateAttributes(map[string]string{"name": strings.Repeat("x", 2049)}),
			tenant.CodeAttributeTooLong, []string{"name"},
			`invalid input: attribute "name" is longer than 2048 characters`},
		{"phone number not in E.164", tenant.ValidateAttributes(map[string]string{"phone_number": "not a phone"}),
			tenant.CodeAttributePhone, []string{"not a phone"},
			`invalid input: phone_number "not a phone" is not in E.164 form (+ and up to 15 digits, as +12345550100)`},
		{"phone verified neither true nor false", tenant.ValidateAttributes(map[string]string{"phone_number_verified": "maybe"}),
			tenant.CodeAttributeBoolean, []string{"phone_number_verified", "maybe"},
			`invalid input: phone_number_verified must be true or false, not "maybe"`},
		{"updated_at not seconds", tenant.ValidateAttributes(map[string]string{"updated_at": "yesterday"}),
			tenant.CodeAttributeEpoch, []string{"updated_at", "yesterday"},
			`invalid input: updated_at "yesterday" is not a time in seconds since 1970`},
		{"updated_at beyond int64", tenant.ValidateAttributes(map[string]string{"updated_at": "9999999999999999999"}),
			tenant.CodeAttributeEpoch, []string{"updated_at", "9999999999999999999"},
			`invalid input: updated_at "9999999999999999999" is not a time in seconds since 1970`},
		{"birthdate written otherwise", tenant.ValidateAttributes(map[string]string{"birthdate": "31-31-9999"}),
			tenant.CodeAttributeDate, []string{"birthdate", "31-31-9999"},
			`invalid input: birthdate "31-31-9999" is not a date written YYYY-MM-DD`},
		{"long value of wide characters", tenant.ValidateAttributes(map[string]string{"name": strings.Repeat("漢", 2049)}),
			tenant.CodeAttributeTooLong, []string{"name"},
			`invalid input: attribute "name" is longer than 2048 characters`},
		{"custom attribute name of 26 characters", tenant.ValidateAttributes(map[string]string{"custom:" + strings.Repeat("é", 26): "x"}),
			tenant.CodeAttributeCustomName, []string{"custom:" + strings.Repeat("é", 26)},
			`invalid input: attribute name "custom:` + strings.Repeat("é", 26) + `" must be custom:<1 to 25 characters>`},
		{"long group description", tenant.ValidateGroupDescription(strings.Repeat("é", tenant.MaxGroupDescription+1)),
			tenant.CodeGroupDescLength, []string{"2048", "2049"},
			"invalid input: a group description may be at most 2048 characters; this one has 2049"},
		{"group description with a control character", tenant.ValidateGroupDescription("Bell\x07ringers"),
			tenant.CodeGroupDescText, nil,
			"invalid input: a group description may not contain control characters or bytes that are not UTF-8 text"},
		{"empty group name", tenant.ValidateGroupName(""), tenant.CodeGroupNameLength, []string{"128"},
			"invalid input: a group name must be 1 to 128 characters"},
		{"long group name", tenant.ValidateGroupName(strings.Repeat("é", 129)), tenant.CodeGroupNameLength, []string{"128"},
			"invalid input: a group name must be 1 to 128 characters"},
		{"group name ..", tenant.ValidateGroupName(".."), tenant.CodeGroupNameDots, nil,
			`invalid input: a group name may not be "." or ".."`},
		{"group name with a space around it", tenant.ValidateGroupName("ops "), tenant.CodeGroupNameSpaces, nil,
			"invalid input: a group name may not start or end with a space"},
		{"group name with a control character", tenant.ValidateGroupName("o\x00ps"), tenant.CodeGroupNameText, nil,
			"invalid input: a group name may not contain control characters, line breaks, characters that cannot be seen (a zero-width joiner only between the characters it joins, not between ASCII ones), or bytes that are not UTF-8 text, and needs one character that can be seen"},
		{"negative precedence", tenant.ValidateGroupPrecedence(new(-1)), tenant.CodeGroupPrecedenceRange, []string{"2147483647"},
			"invalid input: a group precedence must be a whole number from 0 to 2147483647"},
		{"URI too long", tenant.ValidateRedirectURI("https://a.example/" + strings.Repeat("p", 1007)), tenant.CodeURITooLong,
			[]string{"https://a.example/" + strings.Repeat("p", 62) + "…", "1024", "1025"},
			`invalid input: "https://a.example/` + strings.Repeat("p", 62) + `…" must be at most 1024 characters; it has 1025`},
		{"relative URI", tenant.ValidateRedirectURI("/cb"), tenant.CodeURINotAbsolute, []string{"/cb"},
			`invalid input: "/cb" must be an absolute URL`},
		{"URI with a fragment", tenant.ValidateRedirectURI("https://a.example/cb#x"), tenant.CodeURIFragment, []string{"https://a.example/cb#x"},
			`invalid input: "https://a.example/cb#x" may not contain a fragment`},
		{"plain http URI", tenant.ValidateRedirectURI("http://a.example/cb"), tenant.CodeURINotHTTPS, []string{"http://a.example/cb"},
			`invalid input: "http://a.example/cb" must use https (http is allowed only for localhost)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tenant.ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", tc.err)
			}
			var inv *tenant.InvalidError
			if !errors.As(tc.err, &inv) {
				t.Fatalf("%v is not an *InvalidError", tc.err)
			}
			if inv.Code != tc.code || !slices.Equal(inv.Args, tc.args) {
				t.Errorf("code %q args %q, want %q %q", inv.Code, inv.Args, tc.code, tc.args)
			}
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
			if got := inv.Reason(); "invalid input: "+got != tc.text {
				t.Errorf("reason %q", got)
			}
		})
	}
	for _, ok := range []error{tenant.ValidateUsername("ann"), tenant.ValidateEmail("ann@example.com"),
		tenant.ValidateAttributes(map[string]string{"custom:org": "acme", "name": "Ann"}),
		// 25 characters after custom:, as Cognito counts them: 50 bytes.
		tenant.ValidateAttributes(map[string]string{"custom:" + strings.Repeat("é", 25): "x"}),
		tenant.ValidateUsername("josé.ünal+1@example.com"), tenant.ValidateUsername("😀"), tenant.ValidateUsername("山田"),
		tenant.ValidateAttributes(map[string]string{"name": strings.Repeat("é", 2048), "address": "1 Main St\r\nSpringfield\tUS"}),
		tenant.ValidateAttributes(map[string]string{"phone_number": "+31612345678", "phone_number_verified": "false",
			"updated_at": "1682955829", "birthdate": "1990-02-28"}),
		tenant.ValidateAttributes(map[string]string{"birthdate": "0000-02-29"}), tenant.ValidateAttributes(map[string]string{"birthdate": "1990"}),
		tenant.ValidateAttributes(map[string]string{"phone_number": "", "birthdate": "", "updated_at": ""})} {
		if ok != nil {
			t.Errorf("a valid value refused: %v", ok)
		}
	}
}

// ValidateEmail accepts an address exactly when the mail package can send
// to it as written: an address that reads otherwise (a comment, a second
// @, a dot out of place) would be accepted here and given up on by the
// outbox, with nobody told.
func TestValidateEmail(t *testing.T) {
	tests := []struct {
		email string
		ok    bool
	}{
		{"ann@example.com", true},
		{"ann.smith+tag@mail.example.com", true},
		{"o'brien@example.com", true},
		{"a!#$%&'*+/=?^_`{|}~-@example.com", true},
		{"ANN@EXAMPLE.COM", true},
		{"ann@[192.0.2.1]", true},
		{"jörg@exämple.test", true}, // sent with SMTPUTF8
		{"ann@exämple.test", true},  // the domain sent as IDNA A-labels
		{"用户@例子.广告", true},
		{"иван@пример.рф", true},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test", true}, // 254 bytes

		// The exploratory tester's addresses: each was accepted, and the
		// welcome mail given up on at once.
		{"a(comment)@example.com", false},
		{"x(y)@example.com", false},
		{"a..b@example.com", false},
		{".a@example.com", false},
		{"a@b@example.com", false},
		{"a:b@example.com", false},
		{"a[b]@example.com", false},
		// Forms net/mail reads as another address than the text given.
		{"a.@example.com", false},
		{"ann@example..com", false},
		{"ann@.example.com", false},
		{"ann@example.com.", false},
		{`"ann"@example.com`, false},
		{`"ann smith"@example.com`, false},
		{"Ann <ann@example.com>", false},
		{"<ann@example.com>", false},
		{"ann@example.com (Ann)", false},
		{"ann@example.com, bob@example.com", false},
		// What ValidateEmail refused before and still does.
		{"", false},
		{"ann", false},
		{"ann@", false},
		{"@example.com", false},
		{"dave@example", false},
		{"ann @example.com", false},
		{"ann\u00a0@example.com", false},
		{"ann@example.com\r\nBcc: eve@example.com", false},
		{"ctl\x01@example.com", false},
		{"jos\xe9@example.com", false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".test", false}, // 255 bytes
	}
	sink := mail.NewDevSink(nil)
	for _, tc := range tests {
		err := tenant.ValidateEmail(tc.email)
		if tc.ok {
			if err != nil {
				t.Errorf("%q refused: %v", tc.email, err)
			}
			// What is accepted can be mailed.
			if err := sink.Send(t.Context(), mail.Message{To: []string{tc.email}, Subject: "s", Text: "t"}); err != nil {
				t.Errorf("%q accepted, but the mail package refuses it: %v", tc.email, err)
			}
			continue
		}
		var inv *tenant.InvalidError
		if !errors.As(err, &inv) || inv.Code != tenant.CodeEmailInvalid || !slices.Equal(inv.Args, []string{tc.email}) {
			t.Errorf("%q: got %v, want an *InvalidError %s naming it", tc.email, err, tenant.CodeEmailInvalid)
		}
	}
}

// ValidateClient says every rule a client breaks, each with its code and,
// for one value of a list, the list (Field), in the order it checks them:
// a form that shows one problem shows the first (errors.As). Its text is
// every rule's English, sorted, as before the codes.
func TestValidateClientNamesEveryRule(t *testing.T) {
	err := tenant.ValidateClient(tenant.Client{
		GrantTypes:             []string{tenant.GrantAuthorizationCode, "password"},
		RedirectURIs:           []string{"http://a.example/cb", "https://a.example/ok"},
		PostLogoutRedirectURIs: []string{"https://a.example/bye", "https://a.example/bye"},
		Scopes:                 []string{"reports read"},
		AccessTokenTTL:         time.Hour, IDTokenTTL: time.Hour, RefreshTokenTTL: 24 * time.Hour,
	})
	if !errors.Is(err, tenant.ErrInvalid) {
		t.Fatalf("%v is not ErrInvalid", err)
	}
	var first *tenant.InvalidError
	if !errors.As(err, &first) || first.Code != tenant.CodeClientNameMissing {
		t.Errorf("the first rule: %+v, want the missing name", first)
	}
	var all tenant.InvalidErrors
	if !errors.As(err, &all) {
		t.Fatalf("%v is not InvalidErrors", err)
	}
	type rule struct{ code, field string }
	var got []rule
	for _, e := range all {
		got = append(got, rule{e.Code, e.Field})
	}
	want := []rule{
		{tenant.CodeClientNameMissing, ""},
		{tenant.CodeClientGrantUnsupported, tenant.FieldGrantTypes},
		{tenant.CodeURINotHTTPS, tenant.FieldRedirectURIs},
		{tenant.CodeClientTwice, tenant.FieldLogoutURIs},
		{tenant.CodeClientScope, tenant.FieldScopes},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
	const text = `invalid input: grant type "password" is not supported; logout URI "https://a.example/bye" is given twice; ` +
		`redirect URI "http://a.example/cb" must use https (http is allowed only for localhost); ` +
		`scope "reports read" is refused: a scope is 1 to 256 characters of printable ASCII, without spaces, quotes or backslashes; ` +
		`the client needs a name`
	if err.Error() != text {
		t.Errorf("text\n%s\nwant\n%s", err, text)
	}
	if got := tenant.InvalidReason(err); got != strings.TrimPrefix(text, "invalid input: ") {
		t.Errorf("InvalidReason = %q", got)
	}
}

// InvalidReason is the English of a rule without ErrInvalid's prefix, the
// setting it was applied to first, and any other error whole.
func TestInvalidReason(t *testing.T) {
	for err, want := range map[error]string{
		tenant.ValidateGroupName(" ops"): "a group name may not start or end with a space",
		&tenant.InvalidError{Code: tenant.CodeGroupNameSpaces, Field: tenant.FieldAdminGroup}: "admin group: a group name may not start or end with a space",
		tenant.ErrSelfLockout:                tenant.ErrSelfLockout.Error(),
		errors.New("username cannot change"): "username cannot change",
	} {
		if got := tenant.InvalidReason(err); got != want {
			t.Errorf("InvalidReason(%v) = %q, want %q", err, got, want)
		}
	}
}

// Every rule of ValidateClient names the parts of the client it looked at,
// so that a front end that knows some of them (the command line) judges
// what it can before asking. The table breaks each client and URI rule
// once: a new rule fails the test until it is here, with its parts.
func TestValidateClientNamesItsParts(t *testing.T) {
	good := func() tenant.Client {
		return tenant.Client{Name: "batch", SecretHash: "set", GrantTypes: []string{tenant.GrantAuthorizationCode},
			RedirectURIs:   []string{"https://a.example/cb"},
			AccessTokenTTL: tenant.DefaultAccessTokenTTL, IDTokenTTL: tenant.DefaultIDTokenTTL, RefreshTokenTTL: tenant.DefaultRefreshTokenTTL}
	}
	many := func(n int, f string) []string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf(f, i)
		}
		return list
	}
	tests := []struct {
		code   string
		change func(c *tenant.Client)
		parts  []string
	}{
		{tenant.CodeClientNameMissing, func(c *tenant.Client) { c.Name = "" }, []string{tenant.FieldName}},
		{tenant.CodeClientNameRule, func(c *tenant.Client) { c.Name = "a\x01b" }, []string{tenant.FieldName}},
		{tenant.CodeClientNoGrant, func(c *tenant.Client) { c.GrantTypes = nil }, []string{tenant.FieldGrantTypes}},
		{tenant.CodeClientGrantUnsupported, func(c *tenant.Client) { c.GrantTypes = append(c.GrantTypes, "password") },
			[]string{tenant.FieldGrantTypes}},
		{tenant.CodeClientPublicCredentials, func(c *tenant.Client) {
			c.SecretHash, c.GrantTypes = "", []string{tenant.GrantClientCredentials}
		}, []string{tenant.FieldPublic, tenant.FieldGrantTypes}},
		{tenant.CodeClientNoRedirect, func(c *tenant.Client) { c.RedirectURIs = nil },
			[]string{tenant.FieldGrantTypes, tenant.FieldRedirectURIs}},
		{tenant.CodeClientScope, func(c *tenant.Client) { c.Scopes = []string{"a b"} }, []string{tenant.FieldScopes}},
		{tenant.CodeClientTwice, func(c *tenant.Client) { c.Scopes = []string{"openid", "openid"} }, []string{tenant.FieldScopes}},
		{tenant.CodeClientRedirectsTooMany, func(c *tenant.Client) {
			c.RedirectURIs = many(tenant.MaxClientURIs+1, "https://a.example/%d")
		}, []string{tenant.FieldRedirectURIs}},
		{tenant.CodeClientLogoutsTooMany, func(c *tenant.Client) {
			c.PostLogoutRedirectURIs = many(tenant.MaxClientURIs+1, "https://a.example/%d")
		}, []string{tenant.FieldLogoutURIs}},
		{tenant.CodeClientScopesTooMany, func(c *tenant.Client) { c.Scopes = many(tenant.MaxClientScopes+1, "s%d") },
			[]string{tenant.FieldScopes}},
		{tenant.CodeClientAccessTokenTTL, func(c *tenant.Client) { c.AccessTokenTTL = time.Minute },
			[]string{tenant.FieldAccessTokenTTL}},
		{tenant.CodeClientIDTokenTTL, func(c *tenant.Client) { c.IDTokenTTL = time.Minute }, []string{tenant.FieldIDTokenTTL}},
		{tenant.CodeClientRefreshTokenTTL, func(c *tenant.Client) { c.RefreshTokenTTL = time.Minute },
			[]string{tenant.FieldRefreshTokenTTL}},
		{tenant.CodeClientRetryGrace, func(c *tenant.Client) { c.RefreshRetryGrace = time.Hour },
			[]string{tenant.FieldRefreshRetryGrace}},
		{tenant.CodeURITooLong, func(c *tenant.Client) {
			c.PostLogoutRedirectURIs = []string{"https://a.example/" + strings.Repeat("x", tenant.MaxURILength)}
		}, []string{tenant.FieldLogoutURIs}},
		{tenant.CodeURINotAbsolute, func(c *tenant.Client) { c.RedirectURIs = []string{"/cb"} }, []string{tenant.FieldRedirectURIs}},
		{tenant.CodeURIFragment, func(c *tenant.Client) { c.RedirectURIs = []string{"https://a.example/#x"} },
			[]string{tenant.FieldRedirectURIs}},
		{tenant.CodeURINotHTTPS, func(c *tenant.Client) { c.PostLogoutRedirectURIs = []string{"http://a.example/"} },
			[]string{tenant.FieldLogoutURIs}},
	}
	if err := tenant.ValidateClient(good()); err != nil {
		t.Fatalf("the good client is refused: %v", err)
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.code] = true
		c := good()
		tt.change(&c)
		var all tenant.InvalidErrors
		if !errors.As(tenant.ValidateClient(c), &all) || len(all) != 1 || all[0].Code != tt.code {
			t.Errorf("%s: refused with %v, want that rule alone", tt.code, tenant.ValidateClient(c))
			continue
		}
		if !slices.Equal(all[0].Parts, tt.parts) {
			t.Errorf("%s: parts %q, want %q", tt.code, all[0].Parts, tt.parts)
		}
	}
	for _, code := range tenant.InvalidCodes() {
		if (strings.HasPrefix(code, "client.") || strings.HasPrefix(code, "uri.")) && !tested[code] {
			t.Errorf("rule %s of ValidateClient is not in the table: which parts of a client does it judge?", code)
		}
	}
}
