package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
)

// devDefaults is what `cognate serve` with nothing else configured runs with.
func devDefaults() Config {
	c := defaultConfig()
	c.Dev = true
	c.Listen = "localhost:8080"
	c.LogFormat = "text"
	return c
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigPrecedence(t *testing.T) {
	tokenFile := writeFile(t, "token", "  file-token-0123456789\n")
	tests := []struct {
		name string
		file string // YAML; passed with --config when set
		env  map[string]string
		args []string
		want func(c *Config) // changes to devDefaults()
	}{
		{name: "defaults", want: func(*Config) {}},
		{
			name: "file",
			file: "base_url: https://id.example.com\nlisten: \":9000\"\ntrusted_proxies: [10.0.0.0/8, 192.168.1.1]\n" +
				"smtp:\n  host: mail.example.com\n  port: 2525\n  from: no-reply@example.com\nlog_level: debug\n",
			want: func(c *Config) {
				c.BaseURL, c.Listen, c.Dev, c.LogFormat, c.LogLevel = "https://id.example.com", ":9000", false, "json", "debug"
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}
				c.SMTP.Host, c.SMTP.Port, c.SMTP.From = "mail.example.com", 2525, "no-reply@example.com"
			},
		},
		{
			name: "environment beats file",
			file: "data: /from/file.db\nsmtp:\n  host: file.example.com\n",
			env:  map[string]string{"COGNATE_DATA": "/from/env.db", "COGNATE_SMTP_HOST": "env.example.com"},
			want: func(c *Config) { c.Data, c.SMTP.Host = "/from/env.db", "env.example.com" },
		},
		{
			name: "flag beats environment",
			file: "data: /from/file.db\n",
			env:  map[string]string{"COGNATE_DATA": "/from/env.db", "COGNATE_SMTP_HOST": "env.example.com"},
			args: []string{"--data", "/from/flag.db", "--smtp-host=flag.example.com"},
			want: func(c *Config) { c.Data, c.SMTP.Host = "/from/flag.db", "flag.example.com" },
		},
		{
			name: "config file named by the environment",
			env:  map[string]string{"COGNATE_CONFIG": "{file}"},
			file: "log_format: json\n",
			want: func(c *Config) { c.LogFormat = "json" },
		},
		{
			name: "lists from flags and environment",
			env:  map[string]string{"COGNATE_TRUSTED_PROXIES": "10.0.0.1"},
			args: []string{"--trusted-proxies", "10.1.2.3/16, ::1"},
			want: func(c *Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("::1/128")}
			},
		},
		{
			// Development mode listens on loopback only (defaults above);
			// a configured server on every interface.
			name: "production listens on every interface",
			args: []string{"--base-url", "https://id.example.com"},
			want: func(c *Config) {
				c.BaseURL, c.Dev, c.LogFormat, c.Listen = "https://id.example.com", false, "json", ":8080"
			},
		},
		{
			name: "dev stays on when asked for with a base URL",
			args: []string{"--base-url", "http://cognate.test:8080", "--dev"},
			want: func(c *Config) { c.BaseURL = "http://cognate.test:8080" },
		},
		{
			name: "dev off without a base URL",
			env:  map[string]string{"COGNATE_DEV": "false"},
			want: func(c *Config) { c.Dev, c.LogFormat, c.Listen = false, "json", ":8080" },
		},
		{
			name: "dev base URL follows the listen port",
			args: []string{"--listen", "127.0.0.1:9090"},
			want: func(c *Config) { c.Listen, c.BaseURL = "127.0.0.1:9090", "http://localhost:9090" },
		},
		{
			name: "dev base URL is https with a certificate",
			args: []string{"--listen", "127.0.0.1:8443", "--tls-cert", "cert.pem", "--tls-key", "key.pem"},
			want: func(c *Config) {
				c.Listen, c.BaseURL, c.TLSCert, c.TLSKey = "127.0.0.1:8443", "https://localhost:8443", "cert.pem", "key.pem"
			},
		},
		{
			// The mail package picks the port of the TLS mode (465).
			name: "SMTP port left to the TLS mode",
			file: "smtp:\n  tls: implicit\n",
			want: func(c *Config) { c.SMTP.TLS, c.SMTP.Port = mail.TLSImplicit, 0 },
		},
		{
			name: "audit retention in days from the file",
			file: "audit_retention: 400d\n",
			want: func(c *Config) { c.AuditRetention = 400 * 24 * time.Hour },
		},
		{
			name: "audit retention from a flag beats the file",
			file: "audit_retention: 400d\n",
			args: []string{"--audit-retention", "720h"},
			want: func(c *Config) { c.AuditRetention = 30 * 24 * time.Hour },
		},
		{
			name: "audit retention 0 keeps every event",
			env:  map[string]string{"COGNATE_AUDIT_RETENTION": "0"},
			want: func(c *Config) { c.AuditRetention = 0 },
		},
		{
			name: "secret from a file",
			env:  map[string]string{"COGNATE_ADMIN_TOKEN_FILE": tokenFile},
			want: func(c *Config) { c.AdminTokenFile, c.AdminToken = tokenFile, "file-token-0123456789" },
		},
		{
			// A secret and its file are one setting given two ways: the
			// source that wins for one wins for both.
			name: "secret from the environment beats its file in the config file",
			file: "admin_token_file: " + tokenFile + "\n",
			env:  map[string]string{"COGNATE_ADMIN_TOKEN": "env-token-0123456789"},
			want: func(c *Config) { c.AdminToken = "env-token-0123456789" },
		},
		{
			// Compose files pass "COGNATE_ADMIN_TOKEN=" for a variable
			// they were not given; it must not hide the file's setting.
			name: "an empty variable counts as unset",
			file: "admin_token_file: " + tokenFile + "\nlisten: 127.0.0.1:9000\n",
			env:  map[string]string{"COGNATE_ADMIN_TOKEN": "", "COGNATE_LISTEN": " ", "COGNATE_DEV": ""},
			want: func(c *Config) {
				c.AdminTokenFile, c.AdminToken, c.Listen, c.BaseURL = tokenFile, "file-token-0123456789", "127.0.0.1:9000", "http://localhost:9000"
			},
		},
		{
			name: "secret file from a flag beats the secret in the environment",
			env:  map[string]string{"COGNATE_ADMIN_TOKEN": "env-token-0123456789"},
			args: []string{"--admin-token-file", tokenFile},
			want: func(c *Config) { c.AdminTokenFile, c.AdminToken = tokenFile, "file-token-0123456789" },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			args := tc.args
			if tc.file != "" {
				path := writeFile(t, "cognate.yaml", tc.file)
				if tc.env["COGNATE_CONFIG"] == "{file}" {
					env["COGNATE_CONFIG"] = path
				} else {
					args = append([]string{"--config", path}, args...)
				}
			}
			for k, v := range tc.env {
				if v != "{file}" {
					env[k] = v
				}
			}
			got, err := LoadConfig(args, env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got.fromFile = nil // where the file's values were: TestValidateNamesTheConfigFile
			want := devDefaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// Every malformed value is reported at once, named as the operator wrote it.
func TestLoadConfigReportsEveryProblem(t *testing.T) {
	file := writeFile(t, "cognate.yaml", "base_url: https://id.example.com\nsmtp:\n  hots: mail.example.com\n  port: twenty-five\n")
	_, err := LoadConfig(
		[]string{"--config", file, "--trusted-proxies", "10.0.0.0/33", "--audit-retention", "5m"},
		map[string]string{"COGNATE_DEV": "maybe", "COGNATE_ADMIN_TOKEN": "x", "COGNATE_ADMIN_TOKEN_FILE": "/nonexistent"},
		io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`unknown setting "smtp.hots"`,
		"config file " + file + ` line 4: smtp.port: "twenty-five" is not a port number`,
		`environment variable COGNATE_DEV: "maybe" is not true or false`,
		`flag --trusted-proxies: "10.0.0.0/33"`,
		"admin_token and admin_token_file are both set",
		`flag --audit-retention: "5m" is less than a day; give at least 1d, or 0 to keep every event`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The help of serve says what the server key is for, in the forms the
// configuration takes, and how long a stop waits: shutdownTimeout.
func TestServeHelp(t *testing.T) {
	var help strings.Builder
	writeServeUsage(&help, settings())
	for _, want := range []string{
		fmt.Sprintf("lets requests in flight finish (%d s at most)", int(shutdownTimeout/time.Second)),
		"32-byte server key, base64 or hex, that seals tenants' signing keys, legacy pool credentials and TOTP secrets",
		"without it no tenant can be served",
		"sealed again under secret_key at start-up, TOTP secrets when next used",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, help.String())
		}
	}
}

func TestLoadConfigCommandLine(t *testing.T) {
	if _, err := LoadConfig([]string{"-h"}, nil, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	var fe flagError
	if _, err := LoadConfig([]string{"--no-such-flag"}, nil, io.Discard); !errors.As(err, &fe) {
		t.Errorf("unknown flag: %v, want a flagError", err)
	}
	if _, err := LoadConfig([]string{"extra"}, nil, io.Discard); err == nil {
		t.Error("a positional argument was accepted")
	}
}

func TestValidate(t *testing.T) {
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes
	production := func() Config {
		c := defaultConfig()
		c.BaseURL, c.Dev, c.LogFormat = "https://id.example.com", false, "json"
		c.AdminToken, c.SecretKey = "operator-token-0123456789", key
		c.SMTP.Host, c.SMTP.From = "mail.example.com", "Cognate <no-reply@example.com>"
		return c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // substrings of the error; none means valid
		not    []string // not in the error
	}{
		{name: "production", change: func(*Config) {}},
		{name: "dev defaults", change: func(c *Config) { *c = devDefaults() }},
		{name: "http on localhost outside dev", change: func(c *Config) { c.BaseURL = "http://localhost:8080" }},
		{name: "http behind trusted proxies", change: func(c *Config) {
			c.BaseURL, c.TrustedProxies = "http://id.example.com", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}},
		{name: "http on a public host", change: func(c *Config) { c.BaseURL = "http://id.example.com" }, want: []string{"plain http"}},
		{name: "http on a public host in dev", change: func(c *Config) { c.BaseURL, c.Dev = "http://id.example.com", true }},
		{name: "base URL scheme", change: func(c *Config) { c.BaseURL = "ftp://id.example.com" }, want: []string{"http:// or https://"}},
		{name: "base URL path", change: func(c *Config) { c.BaseURL = "https://example.com/id" }, want: []string{"no path"}},
		{name: "base URL IP", change: func(c *Config) { c.BaseURL = "https://192.0.2.1" }, want: []string{"DNS name"}},
		{name: "listen", change: func(c *Config) { c.Listen = "8080" }, want: []string{"listen"}},
		{name: "http base URL with TLS", change: func(c *Config) {
			c.BaseURL, c.TLSCert, c.TLSKey = "http://id.example.com", "cert.pem", "key.pem"
		}, want: []string{"base_url http://id.example.com is http, but with tls_cert and tls_key cognate serves https: write https:// in base_url"},
			not: []string{"use https (with tls_cert and tls_key"}},
		{name: "http base URL on localhost with TLS", change: func(c *Config) {
			c.BaseURL, c.TLSCert, c.TLSKey, c.Dev = "http://localhost:8443", "cert.pem", "key.pem", true
		}, want: []string{"base_url http://localhost:8443 is http, but with tls_cert and tls_key cognate serves https"}},
		{name: "TLS cert without key", change: func(c *Config) { c.TLSCert = "cert.pem" }, want: []string{"tls_cert and tls_key"}},
		{name: "no admin token", change: func(c *Config) { c.AdminToken = "" }, want: []string{"admin_token or admin_token_file is required"}},
		{name: "short admin token", change: func(c *Config) { c.AdminToken = "hunter2" }, want: []string{"at least 16"}},
		{name: "no secret key", change: func(c *Config) { c.SecretKey = "" }, want: []string{"secret_key or secret_key_file is required"}},
		{name: "short secret key", change: func(c *Config) { c.SecretKey = "c2hvcnQ=" }, want: []string{"secret_key: decodes to 5 bytes, want 32"},
			not: []string{"mfa:"}},
		{name: "short previous secret key", change: func(c *Config) { c.PreviousSecretKey = strings.Repeat("ab", 31) },
			want: []string{"previous_secret_key: decodes to 31 bytes, want 32"}},
		// A secret read from its file is named by the file: the operator
		// set no secret_key.
		{name: "short secret key from its file", change: func(c *Config) { c.SecretKey, c.SecretKeyFile = "c2hvcnQ=", "/run/secrets/key" },
			want: []string{"secret_key_file /run/secrets/key: decodes to 5 bytes, want 32"}, not: []string{"secret_key:"}},
		{name: "short previous secret key from its file", change: func(c *Config) {
			c.PreviousSecretKey, c.PreviousSecretKeyFile = "not a key!", "/run/secrets/old"
		}, want: []string{"previous_secret_key_file /run/secrets/old: not base64"}},
		{name: "short admin token from its file", change: func(c *Config) { c.AdminToken, c.AdminTokenFile = "hunter2", "/run/secrets/token" },
			want: []string{"admin_token_file /run/secrets/token: the token must be at least 16 characters"}},
		{name: "hex secret key", change: func(c *Config) { c.SecretKey = strings.Repeat("ab", 32) }},
		{name: "secret key not base64", change: func(c *Config) { c.SecretKey = "not a key!" }, want: []string{"not base64"}},
		{name: "SMTP", change: func(c *Config) {
			c.SMTP.TLS, c.SMTP.From, c.SMTP.Username, c.SMTP.Port = "ssl", "nobody", "mailer", 70000
		}, want: []string{`smtp.tls "ssl"`, `smtp.from "nobody" is not an email address`, "smtp.username and smtp.password go together",
			"smtp.port 70000: want 1 to 65535, or 0"}},
		{name: "SMTP port of the TLS mode", change: func(c *Config) { c.SMTP.Port = 0 }},
		{name: "SMTP password in clear", change: func(c *Config) {
			c.SMTP.TLS, c.SMTP.Username, c.SMTP.Password = mail.TLSNone, "mailer", "pw"
		}, want: []string{"clear text"}},
		{name: "SMTP password in clear to another loopback address", change: func(c *Config) {
			c.SMTP.Host, c.SMTP.TLS, c.SMTP.Username, c.SMTP.Password = "127.0.0.2", mail.TLSNone, "mailer", "pw"
		}, want: []string{"clear text to 127.0.0.2: without TLS, smtp.username and smtp.password are for a relay on this machine only, named localhost, 127.0.0.1 or ::1"}},
		{name: "SMTP password in clear to this machine", change: func(c *Config) {
			c.SMTP.Host, c.SMTP.TLS, c.SMTP.Username, c.SMTP.Password = "127.0.0.1", mail.TLSNone, "mailer", "pw"
		}},
		// A password file that failed to give the password has been
		// reported when it was read; it still counts as a password.
		{name: "SMTP password file not read", change: func(c *Config) {
			c.SMTP.Username, c.SMTP.PasswordFile = "mailer", "/run/secrets/smtp"
		}},
		{name: "SMTP password file without a user", change: func(c *Config) { c.SMTP.PasswordFile = "/run/secrets/smtp" },
			want: []string{"smtp.username and smtp.password go together"}},
		{name: "SMTP password file in clear", change: func(c *Config) {
			c.SMTP.TLS, c.SMTP.Username, c.SMTP.PasswordFile = mail.TLSNone, "mailer", "/run/secrets/smtp"
		}, want: []string{"would send the SMTP password in clear text"}},
		{name: "SMTP settings without host", change: func(c *Config) { c.SMTP.Host = ""; c.SMTP.Username = "x" }, want: []string{"smtp.host is required"}},
		{name: "SMTP mode and port wrong without a host", change: func(c *Config) {
			c.SMTP = SMTPConfig{TLS: "bogus", Port: 99999}
		}, want: []string{`smtp.tls "bogus": want starttls, implicit or none`, "smtp.port 99999: want 1 to 65535"},
			not: []string{"smtp.host is required"}},
		{name: "SMTP mode without a host", change: func(c *Config) { c.SMTP = SMTPConfig{TLS: mail.TLSNone} }},
		{name: "SMTP user without a host, without TLS", change: func(c *Config) { c.SMTP = SMTPConfig{TLS: mail.TLSNone, Username: "x"} },
			want: []string{"smtp.host is required"}, not: []string{"clear text"}},
		{name: "logging", change: func(c *Config) { c.LogFormat, c.LogLevel = "xml", "loud" }, want: []string{"log_format", "log_level"}},
		{
			name: "every problem at once",
			change: func(c *Config) {
				c.BaseURL, c.TLSKey, c.AdminToken, c.SecretKey, c.LogFormat = "id.example.com", "key.pem", "", "", ""
			},
			want: []string{"base_url", "tls_cert and tls_key", "admin_token", "secret_key", "log_format"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := production()
			tc.change(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error has %q:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n < len(tc.want) {
				t.Errorf("%d problems reported, want at least %d", n, len(tc.want))
			}
		})
	}
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	c := devDefaults()
	c.AdminToken, c.SecretKey, c.SMTP.Password = "the-token-value", "the-key-value", "the-smtp-password"
	got := c.LogValue().String()
	for _, secret := range []string{c.AdminToken, c.SecretKey, c.SMTP.Password} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue shows %q: %s", secret, got)
		}
	}
}

// An audit retention that does not fit in a time.Duration is refused,
// naming the longest there is, instead of wrapping round to about a day.
func TestParseRetention(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  string // in the error; "" means none
	}{
		{in: "0", want: 0},
		{in: "400d", want: 400 * day},
		{in: " 720h ", want: 30 * day},
		{in: "106751d", want: 106751 * day},
		{in: "2562047h", want: 2562047 * time.Hour},
		{in: "106752d", err: `"106752d" is longer than the longest retention, 106751d (about 292 years)`},
		{in: "213505d", err: `"213505d" is longer than the longest retention, 106751d`},
		{in: "99999999999999999999d", err: "is longer than the longest retention, 106751d"},
		{in: "2562048h", err: `"2562048h" is longer than the longest retention, 106751d`},
		{in: "3000000h30m", err: "is longer than the longest retention"},
		{in: "5m", err: `"5m" is less than a day`},
		{in: "-5d", err: `"-5d" is less than a day`},
		{in: "-99999999999999999999d", err: "is less than a day"},
		{in: "1y", err: `"1y" is not an age like 365d or 720h`},
		{in: "h", err: `"h" is not an age like 365d or 720h`},
		{in: "xd", err: `"xd" is not a number of days like 365d`},
	}
	for _, tc := range tests {
		got, err := parseRetention(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v (%v), want an error with %q", tc.in, err, got, tc.err)
		}
	}
}

// What `cognate serve` says of a configuration it cannot run with: only
// the real problems, each naming where it was made.
func TestServeConfigurationMessages(t *testing.T) {
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badValue := file("bad-value.yaml", "listen: 127.0.0.1:0\ndev: yes\n")
	twoDocs := file("two.yaml", "listen: 127.0.0.1:0\n---\nbogus: 1\n")
	sectionValue := file("section.yaml", "smtp: mail.example.com\n")
	twice := file("twice.yaml", "listen: 127.0.0.1:0\nlisten: 127.0.0.1:1\n")
	broken := file("broken.yaml", "listen: [\n")
	production := []string{"--base-url", "https://id.example.com", "--secret-key", key}
	steps := []cliStep{
		{name: "an argument", args: []string{"serve", "extra"}, code: exitUsage,
			stderr: []string{"cognate serve takes no arguments; got 1: extra (settings are flags, such as --listen :8080)\n",
				`Run "cognate serve -h" for its settings.`}},
		{name: "an admin token file that is not there", args: append([]string{"serve", "--admin-token-file", filepath.Join(dir, "nope")}, production...),
			code: exitUsage, stderr: []string{"admin_token_file " + filepath.Join(dir, "nope") + ": no such file or directory\n"}},
		{name: "a secret key file that is not there", args: []string{"serve", "--base-url", "https://id.example.com", "--admin-token", "operator-token-0123456789",
			"--secret-key-file", filepath.Join(dir, "nope")},
			code: exitUsage, stderr: []string{"secret_key_file " + filepath.Join(dir, "nope") + ": no such file or directory\n"}},
		{name: "a bad value in the file", args: []string{"serve", "--config", badValue}, code: exitUsage,
			stderr: []string{"config file " + badValue + ` line 2: dev: "yes" is not true or false`}},
		{name: "a second document", args: []string{"serve", "--config", twoDocs}, code: exitUsage,
			stderr: []string{"config file " + twoDocs + " line 3: a second YAML document begins here, after ---; the file must hold a single document"}},
		{name: "a section given a value", args: []string{"serve", "--config", sectionValue}, code: exitUsage,
			stderr: []string{"config file " + sectionValue + " line 1: smtp is a section of settings, not a value: put its settings (such as host) indented under it"}},
		{name: "a setting twice", args: []string{"serve", "--config", twice}, code: exitUsage,
			stderr: []string{"config file " + twice + " line 2: listen is set twice (first at line 1)"}},
		{name: "broken YAML", args: []string{"serve", "--config", broken}, code: exitUsage,
			stderr: []string{"config file " + broken + " line 1: "}},
		{name: "no config file", args: []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, code: exitUsage,
			stderr: []string{"config file " + filepath.Join(dir, "nope.yaml") + ": no such file or directory\n"}},
	}
	// Messages that must not appear: the checks of an empty configuration,
	// a missing secret whose file was the problem, the yaml package's prefix.
	spurious := []string{`base_url ""`, `listen ""`, "admin_token or admin_token_file is required", "secret_key or secret_key_file is required", ": yaml: "}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		var out, errOut strings.Builder
		code := run(t.Context(), st.args, map[string]string{}, strings.NewReader(""), &out, &errOut)
		for _, s := range spurious {
			if strings.Contains(errOut.String(), s) {
				t.Errorf("stderr has %q:\n%s", s, errOut.String())
			}
		}
		return code, out.String(), errOut.String()
	})
}

// Sections with nothing in them, and files with nothing but comments or a
// closing "---", are accepted.
func TestLoadConfigEmptyParts(t *testing.T) {
	for _, content := range []string{
		"smtp:\n",
		"smtp:\nlisten: \":9000\"\n",
		"# nothing yet\n",
		"listen: \":9000\"\n---\n",
	} {
		path := writeFile(t, "cognate.yaml", content)
		if _, err := LoadConfig([]string{"--config", path}, nil, io.Discard); err != nil {
			t.Errorf("%q: %v", content, err)
		}
	}
}

// Start-up errors name the file once, in plain words.
func TestStartupErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	notDir := writeFile(t, "templates", "")
	tests := []struct {
		name string
		args []string
		want string // the whole error
	}{
		{"a database in a directory that is not there", []string{"--data", filepath.Join(missing, "a.db")},
			"cannot create the database file " + filepath.Join(missing, "a.db") + ": the directory " + missing + " does not exist"},
		{"mail templates that are not there", []string{"--data", filepath.Join(dir, "b.db"), "--mail-templates", missing},
			"mail_templates: the directory " + missing + " does not exist"},
		{"mail templates in a file", []string{"--data", filepath.Join(dir, "c.db"), "--mail-templates", notDir},
			"mail_templates: " + notDir + " is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(append([]string{"--listen", "127.0.0.1:0"}, tc.args...), nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			err = runServe(t.Context(), cfg, nil, slog.New(slog.NewTextHandler(t.Output(), nil)), io.Discard)
			if err == nil || err.Error() != tc.want {
				t.Errorf("runServe: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// What the configuration accepts as a relay for a password in clear text
// is what the mail package will send one to: one rule, mail.IsLocalRelay,
// so that nothing passes Validate and then fails when the server builds
// its mail sender, after it has opened the store.
func TestSMTPLocalRelayIsOneRule(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "127.0.0.2", "mail.localhost", "LOCALHOST", "smtp.example.com"} {
		cfg := devDefaults()
		cfg.SMTP = SMTPConfig{Host: host, Port: 25, TLS: mail.TLSNone, Username: "u", Password: "p", From: "no-reply@example.com"}
		configErr := cfg.Validate()
		_, _, senderErr := mailSender(cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now)
		if (configErr == nil) != (senderErr == nil) {
			t.Errorf("%s: the configuration says %v, the mail sender %v", host, configErr, senderErr)
		}
	}
}

func TestWarnings(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	const noProxy = "trusts no proxy (no trusted_proxies)"
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // in one warning; "" means none of the warnings below
	}{
		{name: "dev defaults", change: func(*Config) {}},
		// docs/docker.md's command: a TLS-terminating proxy in front,
		// whose clients would all share its address.
		{name: "https behind a proxy not listed", change: func(c *Config) { c.BaseURL = "https://id.example.com" },
			want: "base_url is https, but cognate serves plain http (no tls_cert) and " + noProxy},
		{name: "https behind a listed proxy", change: func(c *Config) { c.BaseURL, c.TrustedProxies = "https://id.example.com", proxies }},
		{name: "https served by cognate", change: func(c *Config) {
			c.BaseURL, c.TLSCert, c.TLSKey = "https://id.example.com", "cert.pem", "key.pem"
		}},
		{name: "http behind a proxy", change: func(c *Config) { c.BaseURL, c.TrustedProxies = "http://id.example.com", proxies },
			want: "base_url uses http on a public host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := devDefaults()
			tc.change(&c)
			got := strings.Join(c.Warnings(), "\n")
			if tc.want == "" {
				for _, w := range []string{noProxy, "http on a public host"} {
					if strings.Contains(got, w) {
						t.Errorf("unexpected warning: %s", got)
					}
				}
			} else if !strings.Contains(got, tc.want) {
				t.Errorf("warnings lack %q:\n%s", tc.want, got)
			}
		})
	}
}

// A secret file that its group or everyone can read gets one warning line
// that names the file, its setting and its mode.
func TestWarningsNameSecretFilesOthersCanRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may read a file on Windows")
	}
	file := func(name string, mode os.FileMode) string {
		path := writeFile(t, name, "secret")
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	c := devDefaults()
	c.AdminTokenFile = file("admin.token", 0o644)
	c.SecretKeyFile = file("secret.key", 0o600)
	c.PreviousSecretKeyFile = file("previous.key", 0o400)
	c.SMTP.PasswordFile = file("smtp.password", 0o640)
	c.TLSKey = file("tls.key", 0o604)
	var got []string
	for _, w := range c.Warnings() {
		if strings.Contains(w, "readable by its group or by everyone") {
			got = append(got, w)
		}
	}
	want := []string{
		"admin_token_file " + c.AdminTokenFile + " is readable by its group or by everyone (mode 0644)",
		"smtp.password_file " + c.SMTP.PasswordFile + " is readable by its group or by everyone (mode 0640)",
		"tls_key " + c.TLSKey + " is readable by its group or by everyone (mode 0604)",
	}
	if len(got) != len(want) {
		t.Fatalf("%d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %q\nwant it to begin %q", got[i], want[i])
		}
	}
}

// COGNATE_* variables that are no setting are named, never their values;
// the command line client's and the tests' own variables are not.
func TestUnknownVariables(t *testing.T) {
	env := map[string]string{
		"COGNATE_LISTNE": "127.0.0.1:9000", "COGNATE_SMTP_PASWORD": "hunter2-secret",
		"COGNATE_LISTEN": "127.0.0.1:9000", "COGNATE_SMTP_PASSWORD_FILE": "/run/secrets/smtp",
		"COGNATE_CONFIG": "cognate.yaml", "COGNATE_SERVER": "http://localhost:8080",
		"COGNATE_REQUIRE_BROWSER": "1", "COGNATE_TEST_CHILD": "serve", "PATH": "/bin", "COGNATE": "x",
	}
	got := unknownVariables(env, settings())
	want := "environment variables that are not settings are ignored: COGNATE_LISTNE, COGNATE_SMTP_PASWORD (misspelt?"
	if !strings.HasPrefix(got, want) {
		t.Errorf("got  %s\nwant %s…", got, want)
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("the warning shows a value: %s", got)
	}
	if got := unknownVariables(map[string]string{"COGNATE_BASE_URL": "https://id.example.com", "HOME": "/root"}, settings()); got != "" {
		t.Errorf("settings only: %s", got)
	}
}

// Dev mode's token and key files, made 0600, get the same warning when
// someone has opened them up since.
func TestDevSecretFilesOthersCanRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may read a file on Windows")
	}
	dir := t.TempDir()
	cfg := devDefaults()
	cfg.Data = filepath.Join(dir, "cognate.db")
	var log strings.Builder
	if _, err := loadSecrets(cfg, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "level=WARN") {
		t.Fatalf("files made by dev mode got a warning:\n%s", log.String())
	}
	token, key := filepath.Join(dir, devAdminTokenFile), filepath.Join(dir, devSecretKeyFile)
	for _, f := range []string{token, key} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log.Reset()
	if _, err := loadSecrets(cfg, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the dev mode operator token file " + token + " is readable by its group or by everyone (mode 0644)",
		"the dev mode server key file " + key + " is readable by its group or by everyone (mode 0644)"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// A null in the file (null, ~, or nothing after the colon) leaves the
// setting unset, as an empty variable does; it was the string "null",
// which made a database file named null and counted as an SMTP host.
// A quoted "null" is a string.
func TestConfigFileNullIsUnset(t *testing.T) {
	path := writeFile(t, "cognate.yaml", "data: null\nbase_url: ~\nlog_level:\nsmtp:\n  host: null\n  from: NULL\n"+
		"trusted_proxies: [~, 10.0.0.1]\nmail_templates: \"null\"\n")
	got, err := LoadConfig([]string{"--config", path}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got.fromFile = nil
	want := devDefaults()
	want.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	want.MailTemplates = "null"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// A value the file gave that Validate refuses is named with the file and
// its line, as a malformed one is; one a variable or a flag gave, over
// the file's, is named as before.
func TestValidateNamesTheConfigFile(t *testing.T) {
	path := writeFile(t, "cognate.yaml", "base_url: ftp://id.example.com\nlisten: \"9000\"\nlog_level: loud\n"+
		"smtp:\n  host: mail.example.com\n  tls: ssl\nmail_templates: /nonexistent/templates\n")
	cfg, err := LoadConfig([]string{"--config", path, "--log-level", "verbose"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"config file " + path + ` line 1: base_url: "ftp://id.example.com" must start with http:// or https://`,
		"config file " + path + ` line 2: listen "9000": want host:port or :port`,
		"config file " + path + ` line 5: smtp.from is required with smtp.host`,
		"config file " + path + ` line 6: smtp.tls "ssl": want starttls, implicit or none`,
		"config file " + path + ` line 7: mail_templates: the directory /nonexistent/templates does not exist`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if want := "\n" + `log_level "verbose": want debug`; !strings.Contains("\n"+err.Error(), want) {
		t.Errorf("the flag's log level is not named as it was:\n%v", err)
	}
}

// An empty smtp.tls is unset where the documented rule says so (an empty
// variable, a null in the file), and refused, naming the modes, where it
// was written as a value (a "" in the file, --smtp-tls ""): the mail
// package would take it for starttls without a word.
func TestSMTPTLSEmpty(t *testing.T) {
	const modes = "want starttls, implicit or none (leave the setting out for starttls)"
	implicit := writeFile(t, "implicit.yaml", "smtp:\n  tls: implicit\n")
	null := writeFile(t, "null.yaml", "smtp:\n  tls:\n")
	empty := writeFile(t, "empty.yaml", "smtp:\n  host: mail.example.com\n  tls: \"\"\n")
	blank := writeFile(t, "blank.yaml", "smtp:\n  tls: \" \"\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		tls  string // the mode loaded, when it is not refused
		want string // the problem
	}{
		{name: "an empty variable", env: map[string]string{"COGNATE_SMTP_TLS": ""}, tls: mail.TLSStartTLS},
		{name: "an empty variable over the file's", args: []string{"--config", implicit},
			env: map[string]string{"COGNATE_SMTP_TLS": " "}, tls: mail.TLSImplicit},
		{name: "a null in the file", args: []string{"--config", null}, tls: mail.TLSStartTLS},
		{name: "an empty string in the file", args: []string{"--config", empty},
			want: "config file " + empty + " line 3: smtp.tls: empty, which is no TLS mode: " + modes},
		{name: "a blank string in the file", args: []string{"--config", blank},
			want: "config file " + blank + " line 2: smtp.tls: empty, which is no TLS mode: " + modes},
		{name: "an empty flag", args: []string{"--smtp-tls", ""}, want: "flag --smtp-tls: empty, which is no TLS mode: " + modes},
		{name: "an empty flag over the file's", args: []string{"--config", implicit, "--smtp-tls="},
			want: "flag --smtp-tls: empty, which is no TLS mode: " + modes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(tt.args, tt.env, io.Discard)
			switch {
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("LoadConfig: %v\nwant %s", err, tt.want)
			case tt.want == "" && err != nil:
				t.Errorf("LoadConfig: %v", err)
			case tt.want == "" && cfg.SMTP.TLS != tt.tls:
				t.Errorf("smtp.tls %q, want %q", cfg.SMTP.TLS, tt.tls)
			}
		})
	}
}
