package tenant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// An organization's display name is what people see on its sign-in pages
// and mails, and what they type into the apex's "find your organization"
// to reach it. So it must be what it looks like (nothing invisible,
// nothing that reverses the text around it), and it must name one
// organization: no two tenants have names that NameKey makes the same.

// MaxTenantNameLength bounds an organization's name, in characters.
const MaxTenantNameLength = 128

// ErrTenantNameTaken refuses a name that another tenant has already, as
// NameKey compares names: the apex could not tell which organization a
// person who types it means, and the second would catch the first's
// people.
var ErrTenantNameTaken = errors.New("another organization has this name")

// Zero-width non-joiner and joiner are format characters a name may hold:
// Persian and Indic scripts spell words with them, and emoji sequences
// use the joiner. They change how the letters beside them are drawn, not
// which letters are there, and NameKey leaves them out.
const (
	zeroWidthNonJoiner = '\u200c'
	zeroWidthJoiner    = '\u200d'
)

// hiddenInName reports whether r may not be part of a name because it
// cannot be seen or changes how the text around it is read: format
// characters such as the zero-width space (U+200B) and the bidirectional
// controls (the right-to-left override U+202E and its kind), and the
// other default-ignorable characters, such as the Hangul fillers that
// draw as nothing.
func hiddenInName(r rune) bool {
	if r == zeroWidthNonJoiner || r == zeroWidthJoiner {
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point)
}

// lineSeparator reports whether r is a line or paragraph separator
// (U+2028, U+2029): line breaks that are not control characters, so
// PlainText lets them through. No name may hold one: it would make one
// name look like two lines.
func lineSeparator(r rune) bool {
	return unicode.In(r, unicode.Zl, unicode.Zp)
}

// visibleInName reports whether r is something a reader sees: a letter,
// digit, symbol or punctuation mark (not the blank Braille pattern, a
// symbol drawn as nothing).
func visibleInName(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.S, unicode.P) && r != '\u2800' && !hiddenInName(r)
}

// nameFault is the first rule for the text of a name that a name breaks
// (nameTextFault). Organizations and groups follow the same rules and say
// each in their own words which one a name broke.
type nameFault int

const (
	nameTextOK       nameFault = iota
	nameLength                 // empty, or more characters than its limit
	nameNotPlainText           // not UTF-8 text, or holds a control character or a line break
	nameHidden                 // holds a character nobody sees (hiddenInName)
	nameNothingSeen            // holds no character that can be seen (visibleInName)
)

// nameTextFault checks the text of a name, an organization's or a group's,
// of at most maxLength characters (not bytes): 1 to maxLength characters
// of UTF-8 text, with no control characters or line breaks, no characters
// nobody sees (hiddenInName), and one character that can be seen. It
// returns the first of these rules that name breaks, in that order, and
// with nameHidden the character. Each kind of name adds rules of its own
// (a group's name: no surrounding spaces, no joiner out of place).
func nameTextFault(name string, maxLength int) (nameFault, rune) {
	switch {
	case name == "" || utf8.RuneCountInString(name) > maxLength:
		return nameLength, 0
	case !PlainText(name) || strings.ContainsFunc(name, lineSeparator):
		return nameNotPlainText, 0
	}
	if i := strings.IndexFunc(name, hiddenInName); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return nameHidden, r
	}
	if !strings.ContainsFunc(name, visibleInName) {
		return nameNothingSeen, 0
	}
	return nameTextOK, 0
}

// HiddenInNameError refuses a name that holds Char, a character that
// cannot be seen or changes the direction of the text around it
// (hiddenInName). It is ErrInvalid; it is a type so that a front end can
// name the character in its own words, since the person cannot see it.
type HiddenInNameError struct{ Char rune }

func (e *HiddenInNameError) Error() string {
	return fmt.Sprintf("%v: the name may not contain U+%04X: no invisible characters, and none that change the direction of text", ErrInvalid, e.Char)
}

func (e *HiddenInNameError) Unwrap() error { return ErrInvalid }

// ValidateTenantName checks an organization's display name, as trimmed of
// spaces: 1 to 128 characters (not bytes) of UTF-8 text, at least one of
// them one that can be seen, with no control characters or line breaks,
// no invisible characters and none that change the direction of text
// (hiddenInName). Every way of naming a tenant (CreateTenant, UpdateTenant,
// the console's form) applies this rule.
func ValidateTenantName(name string) error {
	switch fault, hidden := nameTextFault(name, MaxTenantNameLength); fault {
	case nameLength:
		return fmt.Errorf("%w: the name must be 1 to %d characters", ErrInvalid, MaxTenantNameLength)
	case nameNotPlainText:
		return fmt.Errorf("%w: the name must be UTF-8 text without control characters or line breaks", ErrInvalid)
	case nameHidden:
		return &HiddenInNameError{Char: hidden}
	case nameNothingSeen:
		return fmt.Errorf("%w: the name needs at least one letter, digit, symbol or punctuation mark that can be seen", ErrInvalid)
	}
	return nil
}

// NameKey is the form in which two organization names are the same name:
// what is invisible left out (the joiners a name may hold, variation
// selectors, and in names stored before ValidateTenantName refused them,
// format characters), then Unicode's compatibility caseless form
// (Unicode §3.13, D146: NFKD and case folding twice over NFD, composed
// again), then every run of white space, the no-break space among it, one
// space, none at either end.
//
// So "Café  Noir", "CAFE\u0301 NOIR" (the accent as a combining mark) and
// "café\u00a0noir" are one name, and so are "Kelvin" spelled with the
// Kelvin sign (U+212A) and "kelvin", or "Ｇｌｏｂｅｘ" in full-width letters
// and "Globex": each pair looks alike, is typed alike, and would be taken
// for the same organization. "Cafe" without the accent is another name.
func NameKey(name string) string {
	name = strings.Map(func(r rune) rune {
		if hiddenInName(r) || r == zeroWidthNonJoiner || r == zeroWidthJoiner || unicode.Is(unicode.Variation_Selector, r) {
			return -1
		}
		return r
	}, name)
	fold := cases.Fold()
	name = norm.NFKC.String(fold.String(norm.NFKD.String(fold.String(norm.NFD.String(name)))))
	return strings.Join(strings.Fields(name), " ")
}

// The index of organization names (CollTenantNames) answers "which
// tenants are called this?" with one key read, for the apex's "find your
// organization" and for the check that a new name is free, however many
// tenants there are. Its keys are a NameKey, a zero byte and a slug: names
// shared before names were kept apart have an entry for each tenant.
// PutTenant and deleteTenantRecord keep it in step with the tenants, in
// their transaction; IndexTenantNames builds it for a data file of an
// older version.

// tenantNameIndexMarker is the index's key that says it is complete. No
// name's key starts with a zero byte: a name has a character that can be
// seen, and NameKey keeps it.
const tenantNameIndexMarker = "\x00indexed"

// tenantNameEntry is the index key of a tenant called name.
func tenantNameEntry(name, slug string) string { return NameKey(name) + "\x00" + slug }

// tenantsNamed visits, in slug order, the slugs of the tenants whose name
// has the NameKey key, until visit returns false.
func tenantsNamed(tx Tx, key string, visit func(slug string) bool) error {
	if key == "" || strings.Contains(key, "\x00") {
		return nil // no name has such a key
	}
	return tx.Scan(CollTenantNames, "", key+"\x00", "", func(_ string, slug []byte) bool {
		return visit(string(slug))
	})
}

// checkTenantNameFree refuses name, inside the transaction that stores it,
// when a tenant other than slug has a name with the same NameKey.
func checkTenantNameFree(tx Tx, slug, name string) error {
	holder := ""
	err := tenantsNamed(tx, NameKey(name), func(other string) bool {
		if other != slug {
			holder = other
		}
		return holder == ""
	})
	if err != nil || holder == "" {
		return err
	}
	t, err := GetTenant(tx, holder)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: tenant %q is called %q, the same name as %q (names that differ only in capitals, spacing or how their characters are encoded are one name)",
		ErrTenantNameTaken, t.Slug, t.Name, name)
}

// FindTenants finds the tenant whose slug is query, or else every tenant
// whose name is, in slug order, both as NameKey compares names: without
// regard to case, spacing or how the characters are encoded. A slug is one
// tenant's; a name should be, but may be several's in data stored before
// names were kept apart. No match is an empty list. It reads the tenants
// it finds and no others.
func (s *Service) FindTenants(ctx context.Context, query string) ([]Tenant, error) {
	key := NameKey(query)
	var found []Tenant
	err := s.Store.View(ctx, func(tx Tx) error {
		found = nil
		if key != "" {
			t, err := GetTenant(tx, key)
			if err == nil {
				found = []Tenant{t}
				return nil
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		var slugs []string
		if err := tenantsNamed(tx, key, func(slug string) bool { slugs = append(slugs, slug); return true }); err != nil {
			return err
		}
		for _, slug := range slugs {
			t, err := GetTenant(tx, slug)
			if err != nil {
				return err
			}
			found = append(found, t)
		}
		return nil
	})
	return found, err
}

// IndexTenantNames builds the index of organization names when the data
// file has none complete: a file of an older version, or one whose first
// start was cut short. It returns how many tenants it indexed (0 when the
// index was complete). It runs at start-up, in one transaction: a tenant
// is a small record, and there are thousands at most.
func IndexTenantNames(ctx context.Context, store Store) (int, error) {
	var done bool
	err := store.View(ctx, func(tx Tx) error {
		_, err := tx.Get(CollTenantNames, "", tenantNameIndexMarker)
		done = err == nil
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil || done {
		return 0, err
	}
	indexed := 0
	err = store.Update(ctx, func(tx Tx) error {
		indexed = 0
		// Entries a pass cut short left go first: the index is made
		// whole from the tenants alone.
		var stale []string
		err := tx.Scan(CollTenantNames, "", "", "", func(key string, _ []byte) bool {
			stale = append(stale, key)
			return true
		})
		if err != nil {
			return err
		}
		for _, key := range stale {
			if err := tx.Delete(CollTenantNames, "", key); err != nil {
				return err
			}
		}
		var tenants []Tenant
		err = ScanJSON(tx, CollTenants, "", "", "", func(_ string, t Tenant) bool {
			tenants = append(tenants, t)
			return true
		})
		if err != nil {
			return err
		}
		for _, t := range tenants {
			if err := tx.Put(CollTenantNames, "", tenantNameEntry(t.Name, t.Slug), []byte(t.Slug)); err != nil {
				return err
			}
			indexed++
		}
		return tx.Put(CollTenantNames, "", tenantNameIndexMarker, []byte{})
	})
	if err != nil {
		return 0, fmt.Errorf("build the index of organization names: %w", err)
	}
	return indexed, nil
}
