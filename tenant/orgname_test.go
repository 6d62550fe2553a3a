package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

func TestValidateTenantName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // a part of the refusal, or "" for a name accepted
	}{
		{"plain", "Acme BV", ""},
		{"accents", "Café Noir", ""},
		{"accent as a combining mark", "Cafe\u0301 Noir", ""},
		{"no-break space inside", "Nbsp\u00a0Org", ""},
		{"Persian with a zero-width non-joiner", "می\u200cخواهم", ""},
		{"emoji joined by a zero-width joiner", "Family \U0001F468\u200d\U0001F469\u200d\U0001F467", ""},
		{"emoji with a variation selector", "Love \u2764\ufe0f", ""},
		{"one symbol", "&", ""},
		{"128 characters", strings.Repeat("é", 128), ""},
		{"129 characters", strings.Repeat("é", 129), "1 to 128 characters"},
		{"empty", "", "1 to 128 characters"},
		{"control character", "Acme\x1b[31m", "without control characters"},
		{"not UTF-8", "Acme\xff", "UTF-8 text"},
		{"line separator", "Acme\u2028BV", "line breaks"},
		{"right-to-left override", "Evil\u202eCorp", "U+202E"},
		{"left-to-right isolate", "Evil\u2066Corp\u2069", "U+2066"},
		{"right-to-left mark", "Acme\u200f", "U+200F"},
		{"zero-width space inside", "Glo\u200bbex", "U+200B"},
		{"only a zero-width space", "\u200b", "U+200B"},
		{"byte order mark", "\ufeffAcme", "U+FEFF"},
		{"soft hyphen", "Glo\u00adbex", "U+00AD"},
		{"Hangul filler", "\u3164", "U+3164"},
		{"only joiners", "\u200d\u200c", "can be seen"},
		{"only a combining mark", "\u0301", "can be seen"},
		{"only a blank Braille pattern", "\u2800", "can be seen"},
		{"only spaces inside", "\u00a0\u2003", "can be seen"},
		// A name that breaks several rules is refused for the first:
		// length, then control characters, then hidden characters.
		{"too long, with control characters", strings.Repeat("\x00", 129), "1 to 128 characters"},
		{"a control character and a hidden one", "\u200bAcme\x00", "without control characters"},
		{"a hidden character and nothing seen", "\u2800\u200b", "U+200B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tenant.ValidateTenantName(tt.in)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ValidateTenantName(%+q) = %v, want nil", tt.in, err)
			case tt.want != "" && (!errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ValidateTenantName(%+q) = %v, want ErrInvalid saying %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Globex Corporation", "globex corporation", true},
		{"Globex Corporation", "GLOBEX CORPORATION", true},
		{"Globex Corporation", "  Globex   Corporation ", true},
		{"Globex Corporation", "Globex\u00a0Corporation", true},
		{"Globex Corporation", "Globex\u2003\u3000Corporation", true},
		{"Globex Corporation", "Globex\tCorporation", true},
		{"Café Noir", "Cafe\u0301 Noir", true},
		{"Café Noir", "CAFÉ NOIR", true},
		{"Café Noir", "Cafe Noir", false},
		{"Kelvin", "\u212Aelvin", true},
		{"Globex", "Ｇｌｏｂｅｘ", true},
		{"Straße", "STRASSE", true},
		{"ΣΟΦΙΑ", "σοφια", true},
		{"Evil\u202eCorp", "EvilCorp", true},
		{"Glo\u200dbex", "Globex", true},
		{"Love \u2764\ufe0f", "love \u2764", true},
		{"Acme BV", "Acme B.V.", false},
		{"Acme", "Acme BV", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			ka, kb := tenant.NameKey(tt.a), tenant.NameKey(tt.b)
			if (ka == kb) != tt.same {
				t.Errorf("NameKey(%+q) = %+q, NameKey(%+q) = %+q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}
	if got := tenant.NameKey(" Acme\u00a0 BV "); got != "acme bv" {
		t.Errorf("NameKey = %+q, want \"acme bv\"", got)
	}
}

// No two tenants have one name as NameKey compares them, whichever way the
// second gets it; a tenant keeps, or respells, its own.
func TestTenantNamesStayApart(t *testing.T) {
	ctx := context.Background()
	const taken = "Globex Corporation"
	variants := []struct{ name, in string }{
		{"same", taken},
		{"case", "globex corporation"},
		{"spaces", " Globex\u00a0\u00a0Corporation "},
		{"full-width", "Ｇｌｏｂｅｘ Corporation"},
	}
	accents := []struct{ name, in string }{{"accent composed", "Café Noir"}, {"accent decomposed", "CAFE\u0301 noir"}}

	t.Run("create", func(t *testing.T) {
		svc, _ := newService(t)
		mustCreateTenant(t, svc, "globex", taken)
		mustCreateTenant(t, svc, "cafe", accents[0].in)
		for i, v := range append(variants, accents[1]) {
			slug := "other" + string(rune('a'+i))
			_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Name: v.in})
			if !errors.Is(err, tenant.ErrTenantNameTaken) {
				t.Errorf("%s: CreateTenant(%+q) = %v, want ErrTenantNameTaken", v.name, v.in, err)
			}
			if _, err := svc.Tenant(ctx, slug); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("%s: the refused tenant exists: %v", v.name, err)
			}
		}
		// A name left out is the slug, and is checked as any other.
		mustCreateTenant(t, svc, "initech", "")
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "initech-two", Name: "INITECH"}); !errors.Is(err, tenant.ErrTenantNameTaken) {
			t.Errorf("the name another tenant has by default: %v", err)
		}
	})

	t.Run("rename", func(t *testing.T) {
		svc, _ := newService(t)
		mustCreateTenant(t, svc, "globex", taken)
		mustCreateTenant(t, svc, "cafe", accents[0].in)
		mustCreateTenant(t, svc, "aab", "Aab")
		for _, v := range append(variants, accents[1]) {
			_, err := svc.UpdateTenant(ctx, "aab", tenant.TenantChange{Name: &v.in})
			if !errors.Is(err, tenant.ErrTenantNameTaken) {
				t.Errorf("%s: rename to %+q = %v, want ErrTenantNameTaken", v.name, v.in, err)
				continue
			}
			if !strings.Contains(err.Error(), `tenant "globex"`) && !strings.Contains(err.Error(), `tenant "cafe"`) {
				t.Errorf("%s: the refusal does not name the tenant that has the name: %v", v.name, err)
			}
		}
		if got, _ := svc.Tenant(ctx, "aab"); got.Name != "Aab" {
			t.Errorf("after refused renames the name is %q", got.Name)
		}
		// Its own name, spelled otherwise, is still its own.
		respelled := "GLOBEX  corporation"
		if got, err := svc.UpdateTenant(ctx, "globex", tenant.TenantChange{Name: &respelled}); err != nil || got.Name != respelled {
			t.Errorf("respelling its own name: %+v, %v", got, err)
		}
		free := "Aab Holding"
		if _, err := svc.UpdateTenant(ctx, "aab", tenant.TenantChange{Name: &free}); err != nil {
			t.Errorf("a free name: %v", err)
		}
	})

	t.Run("names shared before the rule stay, and may change settings", func(t *testing.T) {
		svc, _ := newService(t)
		mustCreateTenant(t, svc, "globex", taken)
		mustCreateTenant(t, svc, "aab", "Aab")
		// As stored by a version that did not keep names apart.
		err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
			aab, err := tenant.GetTenant(tx, "aab")
			if err != nil {
				return err
			}
			aab.Name = "globex corporation"
			return tenant.PutTenant(tx, aab)
		})
		if err != nil {
			t.Fatal(err)
		}
		same := "globex corporation"
		locale := "nl"
		if _, err := svc.UpdateTenant(ctx, "aab", tenant.TenantChange{Name: &same, Settings: tenant.SettingsChange{Locale: &locale}}); err != nil {
			t.Errorf("changing the settings of a tenant whose name another has too: %v", err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		// Two tenants created at once with one name: one of them gets it.
		svc, _ := newService(t)
		errs := make(chan error, 2)
		for _, slug := range []string{"first", "second"} {
			go func() {
				_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Name: taken})
				errs <- err
			}()
		}
		var refused int
		for range 2 {
			if err := <-errs; errors.Is(err, tenant.ErrTenantNameTaken) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if refused != 1 {
			t.Errorf("%d of two creations refused, want 1", refused)
		}
	})
}

func mustCreateTenant(t *testing.T, svc *tenant.Service, slug, name string) {
	t.Helper()
	if _, err := svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: slug, Name: name}); err != nil {
		t.Fatal(err)
	}
}

func TestRepeatedMFAFactorsRefused(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	repeats := tenant.MFAPolicy{Mode: tenant.MFAOptional, Factors: []string{tenant.FactorWebAuthn, tenant.FactorWebAuthn, tenant.FactorTOTP, tenant.FactorTOTP}}
	_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "dupfac", Settings: tenant.Settings{MFA: repeats}})
	if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), `MFA factor "WEBAUTHN" is given twice`) || !strings.Contains(err.Error(), `MFA factor "TOTP" is given twice`) {
		t.Errorf("create with repeated factors: %v", err)
	}
	mustCreateTenant(t, svc, "acme", "Acme")
	twice := tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP, tenant.FactorTOTP}}
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &twice}}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("update with a repeated factor: %v", err)
	}
	if got, _ := svc.Tenant(ctx, "acme"); got.Settings.MFA.Mode != tenant.MFAOff {
		t.Errorf("after the refusal MFA is %+v", got.Settings.MFA)
	}
}
