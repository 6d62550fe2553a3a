package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
)

// Config is everything `cognate serve` is told, from three sources with one
// set of names: the flag --smtp-host, the environment variable
// COGNATE_SMTP_HOST and the YAML key smtp.host (nested as smtp: {host: …})
// are the same setting. A flag beats the environment, which beats the
// file, which beats the default. LoadConfig reads all of them once at
// start-up; nothing reads the environment afterwards.
type Config struct {
	// BaseURL is the public URL of the apex; tenant acme is served at the
	// same scheme and port on acme.<host>.
	BaseURL string
	// Listen is the address the server listens on.
	Listen string
	// Data is the bbolt database file.
	Data string
	// TLSCert and TLSKey, both or neither, make the server speak HTTPS
	// itself rather than behind a TLS-terminating proxy.
	TLSCert, TLSKey string
	// TrustedProxies are the addresses whose X-Forwarded-* headers count.
	TrustedProxies []netip.Prefix
	// AdminToken is the operator's bearer token for the admin API, given
	// directly or read from AdminTokenFile.
	AdminToken, AdminTokenFile string
	// SecretKey is the 32-byte server key, base64 or hex, given directly
	// or read from SecretKeyFile. Keys derived from it seal tenants'
	// signing keys, legacy pool credentials and TOTP secrets at rest (mfa.go),
	// and it encrypts authorization codes. Without it no tenant can be
	// served, as their signing keys do not open (refuseNewKeyForSealedData
	// stops a dev-mode start that would make a new one): losing it means a
	// new signing key for every tenant and TOTP enrolled again by every
	// user (docs/secrets.md).
	SecretKey, SecretKeyFile string
	// PreviousSecretKey is the server key before the last rotation: what
	// it sealed still opens. Signing keys and legacy pool credentials are
	// sealed again under SecretKey at start-up (sealStoredSecrets), TOTP
	// secrets when next used (docs/secrets.md).
	PreviousSecretKey, PreviousSecretKeyFile string
	// MailTemplates is a directory of mail template overrides: files at its
	// root for every tenant, a directory per tenant slug for one tenant.
	MailTemplates string
	// Dev is development mode: plain http on localhost allowed, secrets
	// generated into files next to the data file, mail to the development
	// sink. It is on when no base URL was given, so `cognate serve` alone
	// is development mode.
	Dev bool
	// SMTP is the mail relay. Without one, mail goes to the development
	// sink in dev mode, and otherwise waits in the outbox until the server
	// is started with one (mailSender).
	SMTP SMTPConfig
	// LogFormat is json or text (default: text in dev mode, json otherwise);
	// LogLevel is debug, info, warn or error.
	LogFormat, LogLevel string
	// AuditRetention is how long audit events are kept; 0 keeps them for
	// ever.
	AuditRetention time.Duration
	// MaxConnections is the most client connections held open at once
	// (connlimit.go); 0 derives it from the open-file limit.
	MaxConnections int

	// fromFile says where in the YAML file each setting the file gave
	// was written ("config file c.yaml line 3"), for Validate's messages;
	// a setting a variable or a flag overrode is not in it.
	fromFile map[string]string
}

// SMTPConfig is the mail relay. An empty Host means no relay. The mail
// package has the rules (mail.SMTPConfig): the TLS modes, and the port of
// each when Port is 0.
type SMTPConfig struct {
	Host                   string
	Port                   int // 0: the usual port of the TLS mode
	Username               string
	Password, PasswordFile string
	From                   string
	TLS                    string // mail.TLSStartTLS, mail.TLSImplicit or mail.TLSNone
}

// mailConfig is the relay as the mail package takes it; helloName is the
// name this server gives itself in EHLO.
func (s SMTPConfig) mailConfig(helloName string) mail.SMTPConfig {
	return mail.SMTPConfig{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, From: s.From, TLS: s.TLS,
		HelloName: helloName}
}

// Default listen addresses. Development mode listens on the loopback
// interface only: its /dev/mail page shows temporary passwords, and its
// demo administrator's password is printed to whoever starts it. A server
// in a container is reached through the container's interface, so the
// Dockerfile gives --listen :8080 itself.
const (
	devListen        = "localhost:8080"
	productionListen = ":8080"
)

// defaultConfig is the configuration before any source is read.
func defaultConfig() Config {
	return Config{
		BaseURL:  "http://localhost:8080",
		Listen:   productionListen,
		Data:     "./cognate.db",
		SMTP:     SMTPConfig{TLS: mail.TLSStartTLS},
		LogLevel: "info",

		AuditRetention: tenant.DefaultAuditRetention,
	}
}

// LogValue keeps secrets out of the log when the configuration is logged.
func (c Config) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("listen", c.Listen),
		slog.String("data", c.Data),
		slog.Bool("tls", c.TLSCert != ""),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("admin_token", set(c.AdminToken)),
		slog.String("secret_key", set(c.SecretKey)),
		slog.String("previous_secret_key", set(c.PreviousSecretKey)),
		slog.Bool("dev", c.Dev),
		slog.String("smtp_host", c.SMTP.Host),
		slog.String("smtp_password", set(c.SMTP.Password)),
		slog.String("log_format", c.LogFormat),
		slog.String("log_level", c.LogLevel),
		slog.String("audit_retention", formatRetention(c.AuditRetention)),
		slog.Int("max_connections", c.MaxConnections),
	)
}

// setting is one configuration value under its one name. The name is the
// YAML path ("smtp.host"); the flag and the variable are derived from it.
type setting struct {
	name   string
	arg    string // what the value is, for help: URL, ADDR, FILE…
	usage  string
	isBool bool
	// set parses a value from any source into c. Lists arrive
	// comma-separated from flags and the environment, and as YAML
	// sequences (joined with commas) from the file.
	set func(c *Config, v string) error
	// show is the default for help; empty hides it.
	show func(c *Config) string
}

func (s setting) flagName() string { return strings.NewReplacer("_", "-", ".", "-").Replace(s.name) }
func (s setting) envName() string {
	return "COGNATE_" + strings.ToUpper(strings.ReplaceAll(s.name, ".", "_"))
}

func stringSetting(name, arg, usage string, field func(*Config) *string) setting {
	return setting{
		name: name, arg: arg, usage: usage,
		set:  func(c *Config, v string) error { *field(c) = strings.TrimSpace(v); return nil },
		show: func(c *Config) string { return *field(c) },
	}
}

// settings lists every setting, in the order help shows them.
func settings() []setting {
	return []setting{
		stringSetting("base_url", "URL", "public URL of the apex; tenants are served on its subdomains",
			func(c *Config) *string { return &c.BaseURL }),
		{
			name: "listen", arg: "ADDR",
			usage: "address to listen on (default: " + devListen + " in dev mode, reached from this machine only; " +
				productionListen + ", every interface, otherwise)",
			set: func(c *Config, v string) error { c.Listen = strings.TrimSpace(v); return nil },
		},
		stringSetting("data", "FILE", "database file (bbolt)", func(c *Config) *string { return &c.Data }),
		stringSetting("tls_cert", "FILE", "TLS certificate chain (PEM) to serve HTTPS directly",
			func(c *Config) *string { return &c.TLSCert }),
		stringSetting("tls_key", "FILE", "TLS private key (PEM) of tls_cert", func(c *Config) *string { return &c.TLSKey }),
		{
			name: "trusted_proxies", arg: "CIDRS",
			usage: "comma-separated addresses or CIDRs of proxies whose X-Forwarded-* headers are believed",
			set: func(c *Config, v string) error {
				c.TrustedProxies = nil
				for field := range strings.SplitSeq(v, ",") {
					field = strings.TrimSpace(field)
					if field == "" {
						continue
					}
					p, err := parsePrefix(field)
					if err != nil {
						return err
					}
					c.TrustedProxies = append(c.TrustedProxies, p)
				}
				return nil
			},
		},
		stringSetting("admin_token", "TOKEN", "operator token for the admin API (prefer admin_token_file)",
			func(c *Config) *string { return &c.AdminToken }),
		stringSetting("admin_token_file", "FILE", "file holding the operator token",
			func(c *Config) *string { return &c.AdminTokenFile }),
		stringSetting("secret_key", "KEY", "32-byte server key, base64 or hex, that seals tenants' signing keys, legacy pool credentials "+
			"and TOTP secrets; without it no tenant can be served (prefer secret_key_file; see docs/secrets.md)",
			func(c *Config) *string { return &c.SecretKey }),
		stringSetting("secret_key_file", "FILE", "file holding the server key", func(c *Config) *string { return &c.SecretKeyFile }),
		stringSetting("previous_secret_key", "KEY", "the server key before a rotation, still opening what it sealed: signing keys and "+
			"legacy pool credentials are sealed again under secret_key at start-up, TOTP secrets when next used (see docs/secrets.md)",
			func(c *Config) *string { return &c.PreviousSecretKey }),
		stringSetting("previous_secret_key_file", "FILE", "file holding the previous server key",
			func(c *Config) *string { return &c.PreviousSecretKeyFile }),
		stringSetting("mail_templates", "DIR", "directory of mail template overrides: at its root for every tenant, in DIR/<slug>/ for one (see docs/mail.md)",
			func(c *Config) *string { return &c.MailTemplates }),
		{
			name: "dev", usage: "development mode (default: on when no base_url is given)", isBool: true,
			set: func(c *Config, v string) (err error) { c.Dev, err = parseBool(v); return err },
		},
		stringSetting("smtp.host", "HOST", "SMTP relay for outgoing mail", func(c *Config) *string { return &c.SMTP.Host }),
		{
			name: "smtp.port", arg: "PORT", usage: "SMTP port (default: 587, or 465 with implicit TLS, 25 without TLS)",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("%q is not a port number", v)
				}
				c.SMTP.Port = n
				return nil
			},
		},
		stringSetting("smtp.username", "USER", "SMTP user name", func(c *Config) *string { return &c.SMTP.Username }),
		stringSetting("smtp.password", "PASSWORD", "SMTP password (prefer smtp.password_file)",
			func(c *Config) *string { return &c.SMTP.Password }),
		stringSetting("smtp.password_file", "FILE", "file holding the SMTP password",
			func(c *Config) *string { return &c.SMTP.PasswordFile }),
		stringSetting("smtp.from", "ADDRESS", "sender address of mails, e.g. Cognate <no-reply@example.com>",
			func(c *Config) *string { return &c.SMTP.From }),
		{
			name: "smtp.tls", arg: "MODE", usage: "starttls, implicit or none",
			set: func(c *Config, v string) error {
				// The mail package takes an empty mode for starttls; an
				// empty value written in the file ("") or given as a
				// flag is a mistake, refused as one (an empty variable,
				// or a null in the file, leaves the setting unset and
				// never gets here). Other modes are the mail package's
				// rule, which Validate applies.
				if v = strings.TrimSpace(v); v == "" {
					return fmt.Errorf("empty, which is no TLS mode: want %s, %s or %s (leave the setting out for %s)",
						mail.TLSStartTLS, mail.TLSImplicit, mail.TLSNone, mail.TLSStartTLS)
				}
				c.SMTP.TLS = v
				return nil
			},
			show: func(c *Config) string { return c.SMTP.TLS },
		},
		stringSetting("log_format", "FORMAT", "json or text (default: text in dev mode, json otherwise)",
			func(c *Config) *string { return &c.LogFormat }),
		stringSetting("log_level", "LEVEL", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		{
			name: "audit_retention", arg: "AGE",
			usage: "how long the audit trail keeps an event, in days (400d) or hours (720h); 0 keeps every event",
			set:   func(c *Config, v string) (err error) { c.AuditRetention, err = parseRetention(v); return err },
			show:  func(c *Config) string { return formatRetention(c.AuditRetention) },
		},
		{
			name: "max_connections", arg: "N",
			usage: "most client connections open at once; past three quarters of it, idle ones are closed and each new one after its request " +
				"(default: what the open-file limit leaves room for, at most 10000; see docs/docker.md)",
			set: func(c *Config, v string) (err error) { c.MaxConnections, err = parseMaxConnections(v); return err },
		},
	}
}

// configFileSetting names the YAML file; it cannot itself be in the file.
const configFileSetting = "config"

// LoadConfig builds the configuration from command-line arguments (after
// "serve"), the environment (a snapshot taken at start-up) and the YAML file
// named by --config or COGNATE_CONFIG. It reports every malformed value at
// once; Validate then checks that the values make sense together.
// flag.ErrHelp means -h was asked for; the usage has been written to usage.
func LoadConfig(args []string, env map[string]string, usage io.Writer) (Config, error) {
	all := settings()
	fs := flag.NewFlagSet("cognate serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	fromFlags := map[string]string{}
	for _, s := range all {
		fs.Var(recorder{name: s.name, isBool: s.isBool, into: fromFlags}, s.flagName(), s.usage)
	}
	configFile := fs.String(configFileSetting, strings.TrimSpace(env["COGNATE_CONFIG"]), "YAML configuration file")
	fs.Usage = func() { writeServeUsage(usage, all) }
	if err := fs.Parse(args); err != nil {
		return Config{}, flagError{err}
	}
	if fs.NArg() > 0 {
		// Not a problem of the configuration: nothing of it was read.
		return Config{}, usageError{fmt.Sprintf("cognate serve takes no arguments; got %d: %s (settings are flags, such as --listen :8080)",
			fs.NArg(), strings.Join(quoted(fs.Args()), " "))}
	}

	cfg := defaultConfig()
	// rank is the precedence of the source that set each setting, 0 for
	// one no source gave. The sources are applied from the weakest (the
	// file) to the strongest (a flag), so the later a source, the higher
	// its rank.
	rank := map[string]int{}
	sources := 0
	var problems []error
	// apply sets the values of one source; where names a setting as the
	// person wrote it, for a problem with its value.
	apply := func(values map[string]string, where func(s setting) string) {
		sources++
		for _, s := range all {
			v, ok := values[s.name]
			if !ok {
				continue
			}
			if err := s.set(&cfg, v); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", where(s), err))
				continue
			}
			rank[s.name] = sources
		}
	}

	fileRank := 0 // the rank of the config file's settings, 0 without one
	var fileLines map[string]int
	if *configFile != "" {
		values, lines, err := readConfigFile(*configFile, all)
		if err != nil {
			problems = append(problems, err)
		}
		apply(values, func(s setting) string {
			return fmt.Sprintf("config file %s line %d: %s", *configFile, lines[s.name], s.name)
		})
		fileRank, fileLines = sources, lines
	}
	// An empty variable counts as unset: compose files and orchestrators
	// pass "COGNATE_ADMIN_TOKEN=" for a variable they were not given, and
	// it should not hide the admin_token_file of the config file.
	fromEnv := map[string]string{}
	for _, s := range all {
		if v := env[s.envName()]; strings.TrimSpace(v) != "" {
			fromEnv[s.name] = v
		}
	}
	apply(fromEnv, func(s setting) string { return "environment variable " + s.envName() })
	apply(fromFlags, func(s setting) string { return "flag --" + s.flagName() })
	for name, r := range rank {
		if fileRank > 0 && r == fileRank {
			if cfg.fromFile == nil {
				cfg.fromFile = map[string]string{}
			}
			cfg.fromFile[name] = fmt.Sprintf("config file %s line %d", *configFile, fileLines[name])
		}
	}

	// Defaults that depend on other settings.
	given := func(name string) bool { return rank[name] > 0 }
	if !given("dev") {
		cfg.Dev = !given("base_url")
	}
	if !given("listen") && cfg.Dev {
		cfg.Listen = devListen
	}
	if !given("base_url") {
		// `cognate serve --listen :9090` should still issue tokens for the
		// port it is reached on, and with a certificate for https.
		scheme, port := "http", "8080"
		if cfg.TLSCert != "" || cfg.TLSKey != "" {
			scheme = "https"
		}
		if _, p, err := net.SplitHostPort(cfg.Listen); err == nil && p != "" && p != "0" {
			port = p
		}
		cfg.BaseURL = scheme + "://localhost:" + port
	}
	if !given("log_format") {
		cfg.LogFormat = "json"
		if cfg.Dev {
			cfg.LogFormat = "text"
		}
	}
	// A secret and its file are one setting given two ways, so the
	// precedence of sources holds between them too: COGNATE_ADMIN_TOKEN
	// beats admin_token_file in the file. Only both from one source is
	// a contradiction, which readSecretFiles reports.
	for _, p := range cfg.secretSettings() {
		value, file := rank[p.name], rank[p.name+"_file"]
		switch {
		case value == 0 || file == 0 || value == file:
		case value > file:
			*p.file = ""
		default:
			*p.value = ""
		}
	}
	problems = append(problems, cfg.readSecretFiles()...)
	return cfg, errors.Join(problems...)
}

// flagError is a malformed command line, which the flag package has
// already reported together with the usage.
type flagError struct{ error }

func (e flagError) Unwrap() error { return e.error }

// recorder is a flag.Value that only notes the value, so that flags can be
// applied after the file and the environment although they are parsed first.
type recorder struct {
	name   string
	isBool bool
	into   map[string]string
}

func (r recorder) String() string   { return "" }
func (r recorder) IsBoolFlag() bool { return r.isBool }
func (r recorder) Set(v string) error {
	r.into[r.name] = v
	return nil
}

// readConfigFile flattens the YAML file into setting names and values, and
// the line of each value. Unknown keys are errors: a misspelt key silently
// ignored is a setting the operator believes is made and is not. So is a
// second document (after "---"), which a YAML reader would skip.
func readConfigFile(path string, all []setting) (values map[string]string, lines map[string]int, err error) {
	values, lines = map[string]string{}, map[string]int{}
	raw, err := os.ReadFile(path)
	if err != nil {
		return values, lines, fmt.Errorf("config file %s: %w", path, pathProblem(err))
	}
	doc, err := oneYAMLDocument(raw)
	if err != nil {
		return values, lines, inFile("config file", path, err)
	}
	if doc == nil || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return values, lines, nil // an empty file, or only comments
	}
	known := func(name string) bool {
		return slices.ContainsFunc(all, func(s setting) bool { return s.name == name })
	}
	// A section is the first part of settings' names: smtp of smtp.host.
	section := func(name string) bool {
		return slices.ContainsFunc(all, func(s setting) bool { return strings.HasPrefix(s.name, name+".") })
	}
	var problems []error
	seen := map[string]int{} // the line of each key
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			problems = append(problems, fmt.Errorf("config file %s line %d: expected a mapping of settings", path, n.Line))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			name := prefix + key.Value
			first, dup := seen[name]
			if !dup {
				seen[name] = key.Line
			}
			switch {
			case dup:
				problems = append(problems, fmt.Errorf("config file %s line %d: %s is set twice (first at line %d)", path, key.Line, name, first))
			case val.Kind == yaml.MappingNode && !known(name):
				walk(name+".", val)
			case section(name) && isNull(val):
				// "smtp:" with nothing under it: an empty section.
			case section(name):
				problems = append(problems, fmt.Errorf("config file %s line %d: %s is a section of settings, not a value: put its settings (such as %s) indented under it",
					path, key.Line, name, sectionExample(all, name)))
			case !known(name):
				problems = append(problems, fmt.Errorf("config file %s line %d: unknown setting %q", path, key.Line, name))
			case isNull(val):
				// "data: null", "data: ~" or "data:" leaves the setting
				// unset, as an empty environment variable does: templated
				// files (Helm, Ansible) write null for a value not given,
				// and the string "null" is never what was meant.
			case val.Kind == yaml.ScalarNode:
				values[name], lines[name] = val.Value, val.Line
			case val.Kind == yaml.SequenceNode:
				var items []string
				for _, item := range val.Content {
					if !isNull(item) {
						items = append(items, item.Value)
					}
				}
				values[name], lines[name] = strings.Join(items, ","), val.Line
			default:
				problems = append(problems, fmt.Errorf("config file %s line %d: %s must be a single value or a list", path, val.Line, name))
			}
		}
	}
	walk("", doc.Content[0])
	return values, lines, errors.Join(problems...)
}

// isNull reports whether n is YAML's null: null, Null, NULL, ~ or nothing,
// unless quoted ("null" is a string).
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// sectionExample is the key of a section's first setting: host of smtp.
func sectionExample(all []setting, section string) string {
	for _, s := range all {
		if rest, ok := strings.CutPrefix(s.name, section+"."); ok {
			return rest
		}
	}
	return ""
}

// oneYAMLDocument parses raw, which must hold one YAML document at most;
// nil means none. Its errors are *yamlError.
func oneYAMLDocument(raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, newYAMLError(err)
	}
	// More documents are refused, but for empty ones (a "---" at the end).
	for {
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
			return &doc, nil
		case err != nil:
			return nil, newYAMLError(err)
		case len(next.Content) > 0 && next.Content[0].Tag != "!!null":
			return nil, &yamlError{Line: next.Content[0].Line,
				Problem: "a second YAML document begins here, after ---; the file must hold a single document"}
		}
	}
}

// yamlError is a problem of a YAML file, at a line when Line is not 0.
type yamlError struct {
	Line    int
	Problem string
}

func (e *yamlError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return e.Problem
}

// yamlLine is the start of the yaml package's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// newYAMLError takes the line out of the yaml package's "yaml: line 3:
// did not find expected key".
func newYAMLError(err error) *yamlError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &yamlError{Line: line, Problem: msg[len(m[0]):]}
	}
	return &yamlError{Problem: strings.TrimPrefix(msg, "yaml: ")}
}

// inFile names the file, and the line if known, of a problem: "config file
// c.yaml line 3: …".
func inFile(what, path string, err error) error {
	var ye *yamlError
	if errors.As(err, &ye) && ye.Line > 0 {
		return fmt.Errorf("%s %s line %d: %s", what, path, ye.Line, ye.Problem)
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

// pathProblem is what went wrong with a file, without the operation and
// path that *fs.PathError adds ("open /x/a.db: "), for a message that names
// the file itself.
func pathProblem(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// secretSetting is a secret that may be given directly or in a file: the
// settings name and name + "_file".
type secretSetting struct {
	name        string
	value, file *string
}

// secretSettings lists the secrets of c.
func (c *Config) secretSettings() []secretSetting {
	return []secretSetting{
		{"admin_token", &c.AdminToken, &c.AdminTokenFile},
		{"secret_key", &c.SecretKey, &c.SecretKeyFile},
		{"previous_secret_key", &c.PreviousSecretKey, &c.PreviousSecretKeyFile},
		{"smtp.password", &c.SMTP.Password, &c.SMTP.PasswordFile},
	}
}

// secretNamed is how a problem of the secret called name names it: by the
// setting it was given in (for the file's line) and in words, which name
// the file when it was read from one, so that the operator is not sent to
// look for a setting they never made.
func (c *Config) secretNamed(name string) (setting, words string) {
	for _, s := range c.secretSettings() {
		if s.name == name && *s.file != "" {
			return name + "_file", name + "_file " + *s.file
		}
	}
	return name, name
}

// readSecretFiles replaces each secret's file name by the file's content.
func (c *Config) readSecretFiles() []error {
	var problems []error
	for _, s := range c.secretSettings() {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			problems = append(problems, fmt.Errorf("%s and %s_file are both set; set one", s.name, s.name))
			continue
		}
		raw, err := os.ReadFile(*s.file)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s_file %s: %w", s.name, *s.file, pathProblem(err)))
			continue
		}
		*s.value = strings.TrimSpace(string(raw))
		if *s.value == "" {
			problems = append(problems, fmt.Errorf("%s_file %s is empty", s.name, *s.file))
		}
	}
	return problems
}

// minAdminTokenLen keeps the token that opens every tenant from being a
// word someone can guess.
const minAdminTokenLen = 16

// Validate reports every problem of the configuration at once.
//
// It runs after LoadConfig, which has read the secret files: a secret whose
// file is set but did not give it is a problem LoadConfig has reported, and
// is not reported again here as missing.
//
// A plain-http base URL on a host other than localhost is refused outside
// dev mode when no trusted proxies are set: passwords and tokens would cross
// the network in clear text, and browsers refuse WebAuthn there. With
// trusted proxies it is only a warning (see Warnings): the proxy may well
// terminate TLS and say so in X-Forwarded-Proto.
func (c Config) Validate() error {
	var problems []error
	// bad reports a problem of the setting name, naming the line of the
	// config file when the value came from there.
	bad := func(name, format string, args ...any) {
		err := fmt.Errorf(format, args...)
		if where, ok := c.fromFile[name]; ok {
			err = fmt.Errorf("%s: %w", where, err)
		}
		problems = append(problems, err)
	}

	if u, err := parseBaseURL(c.BaseURL); err != nil {
		bad("base_url", "base_url: %w", err)
	} else if u.Scheme == "http" && (c.TLSCert != "" || c.TLSKey != "") {
		bad("base_url", "base_url %s is http, but with tls_cert and tls_key cognate serves https: write https:// in base_url", c.BaseURL)
	} else if u.Scheme == "http" && !tenant.IsLoopbackHost(u.Hostname()) && !c.Dev && len(c.TrustedProxies) == 0 {
		bad("base_url", "base_url %s uses plain http on a public host: use https (with tls_cert and tls_key, or behind a proxy listed in trusted_proxies), or set dev", c.BaseURL)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "listen %q: want host:port or :port", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("listen", "listen %q: the port must be a number from 0 to 65535", c.Listen)
	}
	if c.Data == "" {
		bad("data", "data: the database file is required")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		given := "tls_cert"
		if c.TLSCert == "" {
			given = "tls_key"
		}
		bad(given, "tls_cert and tls_key go together: set both or neither")
	}
	if c.MailTemplates != "" {
		if err := templateDirProblem(c.MailTemplates); err != nil {
			bad("mail_templates", "%w", err)
		}
	}

	switch {
	case c.AdminToken == "" && c.AdminTokenFile == "" && !c.Dev:
		bad("", "admin_token or admin_token_file is required outside dev mode (make one with: openssl rand -base64 32)")
	case c.AdminToken != "" && len(c.AdminToken) < minAdminTokenLen:
		setting, words := c.secretNamed("admin_token")
		bad(setting, "%s: the token must be at least %d characters", words, minAdminTokenLen)
	}
	switch {
	case c.SecretKey == "" && c.SecretKeyFile == "" && !c.Dev:
		bad("", "secret_key or secret_key_file is required outside dev mode (make one with: openssl rand -base64 32)")
	case c.SecretKey != "":
		if _, err := parseServerKey(c.SecretKey); err != nil {
			setting, words := c.secretNamed("secret_key")
			bad(setting, "%s: %w", words, err)
		}
	}
	if c.PreviousSecretKey != "" {
		if _, err := parseServerKey(c.PreviousSecretKey); err != nil {
			setting, words := c.secretNamed("previous_secret_key")
			bad(setting, "%s: %w", words, err)
		} else if c.SecretKey == "" || c.PreviousSecretKey == c.SecretKey {
			bad("previous_secret_key", "previous_secret_key is for a rotation: set secret_key to the new key, different from the previous one")
		}
	}

	c.SMTP.validate(bad)

	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log_format", "log_format %q: want json or text", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log_level", "log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(problems...)
}

// validate reports the relay's problems through Validate's bad: the mail
// package's, which NewSMTPSender would refuse after the store is open,
// named as settings, and the two that only the configuration can have.
func (s SMTPConfig) validate(bad func(name, format string, args ...any)) {
	if s.Host == "" {
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" || s.From != "" {
			bad("", "smtp.host is required when other smtp settings are given")
		}
		// A mode or a port that is wrong in itself is wrong without a
		// relay too: refused now, not at the start that adds one. (The
		// rule against a password in clear text needs a relay; without
		// one the settings that would send it are refused above.)
		modeAndPort := s.mailConfig("")
		modeAndPort.Username = ""
		for _, p := range modeAndPort.Problems("smtp.", false) {
			if p.Field == "tls" || p.Field == "port" {
				bad("smtp."+p.Field, "%w", p)
			}
		}
		return
	}
	if s.From == "" {
		// At smtp.host's line in the file: the setting that asks for mail.
		bad("smtp.host", "smtp.from is required with smtp.host")
	}
	// A password file that did not give the password has been reported
	// (readSecretFiles); the password counts as given.
	passwordGiven := s.Password != "" || s.PasswordFile != ""
	for _, p := range s.mailConfig("").Problems("smtp.", passwordGiven) {
		if p.Field == "from" && s.From == "" {
			continue // reported above
		}
		bad("smtp."+p.Field, "%w", p)
	}
}

// templateDirProblem is what keeps dir from being a directory of mail
// template overrides, or nil. Validate asks it, so that a wrong directory
// stops the start before anything is written; mailTemplates asks again
// when it reads them.
func templateDirProblem(dir string) error {
	// os.DirFS names the directory ".", so its errors cannot say which.
	switch info, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("mail_templates: the directory %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("mail_templates: the directory %s: %w", dir, pathProblem(err))
	case !info.IsDir():
		return fmt.Errorf("mail_templates: %s is not a directory", dir)
	}
	return nil
}

// Warnings are settings that work but are probably not what was meant.
// They include secret files that other users can read, so they look at
// the files' modes.
func (c Config) Warnings() []string {
	var warnings []string
	u, err := parseBaseURL(c.BaseURL)
	if err == nil && u.Scheme == "http" && !tenant.IsLoopbackHost(u.Hostname()) && len(c.TrustedProxies) > 0 {
		warnings = append(warnings, "base_url uses http on a public host: if the proxy serves https, say https in base_url")
	}
	// An https base URL served as plain http is a TLS-terminating proxy in
	// front (docs/docker.md's command is one). Without trusted_proxies,
	// its X-Forwarded-For is ignored, so every client has the proxy's
	// address: one lockout counter and one rate limit for all of them, and
	// the proxy in every audit event.
	if err == nil && u.Scheme == "https" && c.TLSCert == "" && len(c.TrustedProxies) == 0 {
		warnings = append(warnings, "base_url is https, but cognate serves plain http (no tls_cert) and trusts no proxy (no trusted_proxies): "+
			"behind a TLS-terminating proxy every client has the proxy's address, so sign-in lockouts, rate limits and the audit trail "+
			"count them all as one; list the proxy's addresses in trusted_proxies")
	}
	if !c.Dev && c.SMTP.Host == "" {
		warnings = append(warnings, "no smtp.host: mails (invitations, password resets) wait in the outbox until the server is started with one")
	}
	for _, f := range []struct{ setting, path string }{
		{"admin_token_file", c.AdminTokenFile}, {"secret_key_file", c.SecretKeyFile},
		{"previous_secret_key_file", c.PreviousSecretKeyFile}, {"smtp.password_file", c.SMTP.PasswordFile},
		{"tls_key", c.TLSKey},
	} {
		if w := readableByOthers(f.setting, f.path); w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings
}

// readableByOthers is a warning when the secret file at path can be read
// by its group or by everyone, naming the file and its mode; "" when it
// cannot, or when that cannot be known (no path, no such file, or Windows,
// where the mode does not say who may read a file). what names the file
// for the operator, by its setting.
func readableByOthers(what, path string) string {
	if path == "" || runtime.GOOS == "windows" {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o044 == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s is readable by its group or by everyone (mode %04o): it holds a secret; "+
		"make it readable by the user cognate runs as only (chmod 600)", what, path, info.Mode().Perm())
}

// otherVariables are COGNATE_* variables that are not settings of serve
// but are not misspelt either: the config file's, the command line
// client's, and the test suite's (README.md, Tests).
var otherVariables = []string{"COGNATE_CONFIG", "COGNATE_SERVER", "COGNATE_SCREENSHOTS", "COGNATE_TEST_CHILD"}

// unknownVariables is a warning naming the COGNATE_* variables of env that
// are no setting, most likely misspelt (COGNATE_LISTNE): a misspelt key of
// the YAML file is an error, but the environment holds variables for other
// programs too, so these are only named. Never their values: one may be a
// secret under a misspelt name.
func unknownVariables(env map[string]string, all []setting) string {
	var unknown []string
	for name := range env {
		if !strings.HasPrefix(name, "COGNATE_") || slices.Contains(otherVariables, name) ||
			strings.HasPrefix(name, "COGNATE_REQUIRE_") ||
			slices.ContainsFunc(all, func(s setting) bool { return s.envName() == name }) {
			continue
		}
		unknown = append(unknown, name)
	}
	if len(unknown) == 0 {
		return ""
	}
	slices.Sort(unknown)
	return fmt.Sprintf("environment variables that are not settings are ignored: %s (misspelt? \"cognate serve -h\" lists the settings and their variables)",
		strings.Join(unknown, ", "))
}

// parseBaseURL accepts http(s)://host[:port] with nothing after it. The host
// must be a name, since tenants live on its subdomains.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q must start with http:// or https://", raw)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host", raw)
	case u.User != nil, u.RawQuery != "", u.Fragment != "", u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("%q must be scheme://host[:port] with no path, query or user", raw)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, fmt.Errorf("%q: the host must be a DNS name, because tenants are served on its subdomains (use localhost in development)", raw)
	}
	return u, nil
}

// parsePrefix accepts a CIDR or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR", s)
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

// parseRetention reads an age in days ("400d") or as a Go duration
// ("720h"). Less than a day is refused: it would empty the audit trail
// almost as it is written, which is never what was meant. More than
// time.Duration holds is refused too, rather than wrapping round to
// something short.
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return 0, nil
	}
	tooLong := func() error {
		return fmt.Errorf("%q is longer than the longest retention, %dd (about 292 years); give at most that, or 0 to keep every event", v, maxRetentionDays)
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		// Out of range, n is the largest or the smallest int64.
		n, err := strconv.ParseInt(days, 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, fmt.Errorf("%q is not a number of days like 365d", v)
		case n > maxRetentionDays:
			return 0, tooLong()
		case n > 0:
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			if durationSyntax.MatchString(v) {
				// Well written, so too long: ParseDuration says only
				// "invalid duration".
				return 0, tooLong()
			}
			return 0, fmt.Errorf("%q is not an age like 365d or 720h", v)
		}
	}
	if d < 24*time.Hour {
		return 0, fmt.Errorf("%q is less than a day; give at least 1d, or 0 to keep every event", v)
	}
	return d, nil
}

// maxRetentionDays is the most whole days a time.Duration holds.
const maxRetentionDays = int64(math.MaxInt64 / int64(24*time.Hour))

// durationSyntax matches what time.ParseDuration reads, whatever its size.
var durationSyntax = regexp.MustCompile(`^\+?((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$`)

// formatRetention shows a retention the way parseRetention reads it.
func formatRetention(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// parseServerKey reads a server key by mfa.ParseKey's rules: 32 bytes,
// base64 (standard or URL alphabet, padded or not) or hex. A refusal is
// only what is wrong with the key (mfa.KeyError's Reason), without the
// package's "mfa: invalid sealing key" before it, since the message names
// the setting instead.
func parseServerKey(s string) ([]byte, error) {
	key, err := mfa.ParseKey(s)
	if bad := (*mfa.KeyError)(nil); errors.As(err, &bad) {
		return nil, errors.New(bad.Reason)
	}
	return key, err
}

// writeServeUsage is the help of `cognate serve`.
func writeServeUsage(w io.Writer, all []setting) {
	fmt.Fprintf(w, `Usage: cognate serve [flags]

Runs the server. With no flags it runs in development mode on
http://localhost:8080, reached from this machine only, with its data,
operator token and server key in files in the working directory.

Every setting has one name in three places: a flag (--base-url), an
environment variable (COGNATE_BASE_URL) and a key of the YAML file given
with --config (base_url; smtp.host is "smtp: {host: …}"). A flag beats the
environment, which beats the file. An empty variable counts as unset, and
so does a null (null, ~ or nothing) in the file; a COGNATE_ variable that
is no setting is named in a warning at start-up. An empty string in the
file ("") or on the command line (--smtp-tls "") is a value: it clears a
setting that may be empty (smtp.host: no relay), and one that may not
(smtp.tls) refuses it. A relative path (data, tls_cert, mail_templates,
the *_file settings) is relative to the directory cognate serve runs in,
wherever it is given: in the file too, not to the file's own directory.

SIGINT, SIGTERM and SIGHUP stop the server gracefully: it stops accepting
connections, lets requests in flight finish (%d s at most) and commits
what it has queued. A renewed TLS certificate is read at the next start.

Settings:
  --config FILE
        YAML configuration file (COGNATE_CONFIG)
`, int(shutdownTimeout/time.Second))
	def := defaultConfig()
	for _, s := range all {
		arg := " " + s.arg
		if s.isBool {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s%s\n        %s (%s, %s)", s.flagName(), arg, s.usage, s.envName(), s.name)
		if s.show != nil {
			if v := s.show(&def); v != "" {
				fmt.Fprintf(w, " [default %s]", v)
			}
		}
		fmt.Fprintln(w)
	}
}
