package adminapi

import (
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestOpenAPILegacyPool keeps the LegacyPool schemas of docs/openapi.yaml in
// step with the wire type, as TestOpenAPIMatches does for the others: the
// one a response shows and the one a change sends, which have the same
// properties and differ in what a secret may be.
func TestOpenAPILegacyPool(t *testing.T) {
	var doc struct {
		Components struct{ Schemas map[string]schema } `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)
	for _, name := range []string{"LegacyPool", "LegacyPoolChange"} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("schema %s is not documented", name)
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if fields := jsonFields(reflect.TypeOf(LegacyPool{})); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the type has %v", name, props, fields)
		}
	}
}

// stringSchema is as much of a string's schema as the secrets use.
type stringSchema struct {
	Ref       string         `yaml:"$ref"`
	Const     *string        `yaml:"const"`
	Enum      []string       `yaml:"enum"`
	MinLength *int           `yaml:"minLength"`
	MaxLength *int           `yaml:"maxLength"`
	AnyOf     []stringSchema `yaml:"anyOf"`
}

// accepts reports whether v meets s; refs name schemas in all.
func (s stringSchema) accepts(v string, all map[string]stringSchema) bool {
	if s.Ref != "" {
		return all[s.Ref[len("#/components/schemas/"):]].accepts(v, all)
	}
	n := utf8.RuneCountInString(v)
	switch {
	case s.Const != nil && v != *s.Const,
		s.Enum != nil && !slices.Contains(s.Enum, v),
		s.MinLength != nil && n < *s.MinLength,
		s.MaxLength != nil && n > *s.MaxLength:
		return false
	}
	return s.AnyOf == nil || slices.ContainsFunc(s.AnyOf, func(a stringSchema) bool { return a.accepts(v, all) })
}

// The secrets' schemas hold for what is sent and what is shown: a response
// shows SecretMask, a change sends a new secret, "" or SecretMask.
func TestOpenAPILegacySecrets(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]stringSchema `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)
	all := map[string]stringSchema{}
	var raw struct {
		Components struct{ Schemas map[string]stringSchema } `yaml:"components"`
	}
	ReadOpenAPI(t, &raw)
	for name, s := range raw.Components.Schemas {
		all[name] = s
	}
	secrets := []string{"client_secret", "admin_secret_access_key", "webhook_secret"}
	for _, secret := range secrets {
		if s := doc.Components.Schemas["LegacyPool"].Properties[secret]; !s.accepts(SecretMask, all) || s.accepts("a-secret-shown-in-clear-000000", all) {
			t.Errorf("LegacyPool.%s: the response schema must admit %q and nothing else", secret, SecretMask)
		}
		change := doc.Components.Schemas["LegacyPoolChange"].Properties[secret]
		for _, v := range []string{"", SecretMask, "0123456789abcdef01234567"} {
			if !change.accepts(v, all) {
				t.Errorf("LegacyPoolChange.%s refuses %q, which a change may send", secret, v)
			}
		}
	}
	if doc.Components.Schemas["LegacyPoolChange"].Properties["webhook_secret"].accepts("too-short-a-secret", all) {
		t.Error("LegacyPoolChange.webhook_secret admits a new secret shorter than 24 characters")
	}
}
