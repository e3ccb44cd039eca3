package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-fonts/dejavu/dejavusans"
)

func shipped(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestShippedConfigLoads(t *testing.T) {
	c, err := Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bright-backup", "pinch-hourly", "jitc-invoice"} {
		p := c.Plans[id]
		if p == nil {
			t.Fatalf("plan %s missing", id)
		}
		if p.ID != id {
			t.Errorf("plan %s has ID %q", id, p.ID)
		}
	}
	if got := c.Plans["pinch-hourly"].Tiers[2].From; got != 7500001 {
		t.Errorf("pinch-hourly third tier from %d cents, want 7500001", got)
	}
	if got := c.Plans["jitc-invoice"].DailyMax; got != 8000 {
		t.Errorf("jitc daily max %d", got)
	}
	// [ach] shows its defaults commented out: prenotes off, a wait of 3.
	if c.ACH.Prenote || c.ACH.PrenoteDays != 3 {
		t.Errorf("ach = %+v, want prenote off and prenote_days 3", c.ACH)
	}
}

// TestACHPrenote reads the [ach] section once its settings are written.
func TestACHPrenote(t *testing.T) {
	text := strings.Replace(shipped(t), "# prenote = false\n# prenote_days = 3", "prenote = true\nprenote_days = 5", 1)
	c, err := Parse("config.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !c.ACH.Prenote || c.ACH.PrenoteDays != 5 {
		t.Errorf("ach = %+v, want prenote on and prenote_days 5", c.ACH)
	}
}

// TestErrorsNameFileLineAndKey replaces one setting of the shipped config
// at a time and checks that the error names the line and the key.
func TestErrorsNameFileLineAndKey(t *testing.T) {
	base := shipped(t)
	lineOfText := func(s, needle string) int {
		i := strings.Index(s, needle)
		if i < 0 {
			t.Fatalf("%q not in config", needle)
		}
		return strings.Count(s[:i], "\n") + 1
	}
	cases := []struct {
		name, old, new, key string
	}{
		{"unknown_key", `day_limit = 20`, "day_limit = 20\nday_limits = 5", "plans.bright-backup.day_limits"},
		{"wrong_type", `day_limit = 20`, `day_limit = "twenty"`, "plans.bright-backup.day_limit"},
		{"negative_day_limit", `day_limit = 20`, `day_limit = -20`, "plans.bright-backup.day_limit"},
		{"unknown_plan_kind", `kind = "hourly"`, `kind = "weekly"`, "plans.pinch-hourly.kind"},
		{"tiers_out_of_order", `from = "75000.01"`, `from = "30000.00"`, "plans.pinch-hourly.tiers[2].from"},
		{"negative_rate", `hourly_rate = "4.00"`, `hourly_rate = "-4.00"`, "plans.pinch-hourly.tiers[2].hourly_rate"},
		{"bad_money", `daily_max = "80.00"`, `daily_max = "eighty"`, "plans.jitc-invoice.daily_max"},
		{"unknown_care_type", `care_types = ["in_home"]`, `care_types = ["in_home", "boarding"]`, "plans.pinch-hourly.care_types"},
		{"bad_time_zone", `time_zone = "America/New_York"`, `time_zone = "Mars/Olympus"`, "run.time_zone"},
		{"world_readable_files", `file_mode = "0600"`, `file_mode = "0644"`, "run.file_mode"},
		{"group_writable_files", `file_mode = "0600"`, `file_mode = "0660"`, "run.file_mode"},
		{"file_mode_not_octal", `file_mode = "0600"`, `file_mode = "rw-------"`, "run.file_mode"},
		{"memory_limit_not_a_size", `memory_limit = "384MiB"`, `memory_limit = "384MB"`, "run.memory_limit"},
		{"memory_limit_too_small", `memory_limit = "384MiB"`, `memory_limit = "1MiB"`, "run.memory_limit"},
		{"prenote_days_below_nacha", `# prenote_days = 3`, `prenote_days = 2`, "ach.prenote_days"},
		{"prenote_days_too_long", `# prenote_days = 3`, `prenote_days = 31`, "ach.prenote_days"},
		{"prenote_not_a_bool", `# prenote = false`, `prenote = "yes"`, "ach.prenote"},
		{"returns_fallback_unknown", `fallback = "check"`, `fallback = "wire"`, "returns.fallback"},
		{"zero_line_charge_limit", `max_line_charge = "5000.00"`, `max_line_charge = "0.00"`, "limits.max_line_charge"},
		{"negative_payment_limit", `max_payment = "50000.00"`, `max_payment = "-1.00"`, "limits.max_payment"},
		{"stale_after_zero", `stale_after = 180`, `stale_after = 0`, "checks.stale_after"},
		{"stale_after_negative", `stale_after = 180`, `stale_after = -1`, "checks.stale_after"},
		{"cleared_column_blank", `amount = "amount"`, `amount = " "`, "checks.cleared_columns.amount"},
		{"cleared_columns_same_name", `cleared_date = "cleared_date"`, `cleared_date = "AMOUNT"`, "checks.cleared_columns.cleared_date"},
		{"positive_pay_cannot_tell_voids", `positive_pay_columns = ["account", "check_number", "amount", "issue_date", "payee", "issue_flag"]`,
			`positive_pay_columns = ["account", "check_number", "amount", "issue_date", "payee"]`, "payout.positive_pay_columns"},
		{"ledger_driver_unknown", `driver = "sqlite"`, `driver = "mysql"`, "ledger.driver"},
		{"postgres_without_dsn", `driver = "sqlite"`, "driver = \"postgres\"\ndsn = \"\"", "ledger.dsn"},
		{"postgres_dsn_not_a_url", `driver = "sqlite"`, "driver = \"postgres\"\ndsn = \"host=db dbname=payments\"", "ledger.dsn"},
		{"postgres_password_in_config", `driver = "sqlite"`, "driver = \"postgres\"\ndsn = \"postgres://carepay:s3cret@db.example.com/payments\"", "ledger.dsn"},
		{"postgres_password_parameter", `driver = "sqlite"`, "driver = \"postgres\"\ndsn = \"postgres://carepay@db.example.com/payments?password=s3cret\"", "ledger.dsn"},
		{"fallback_font_missing", "print_batch_size = 5000", "print_batch_size = 5000\nfallback_fonts = [\"no-such-font.ttf\"]", "letters.fallback_fonts"},
		{"positive_pay_unknown_column", `positive_pay_columns = ["account", "check_number", "amount", "issue_date", "payee", "issue_flag"]`,
			`positive_pay_columns = ["account", "check_number", "memo", "issue_flag"]`, "payout.positive_pay_columns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(base, c.old) {
				t.Fatalf("%q not in config", c.old)
			}
			text := strings.Replace(base, c.old, c.new, 1)
			_, err := Parse("config.toml", []byte(text))
			if err == nil {
				t.Fatal("accepted")
			}
			lastLine := strings.Split(c.new, "\n")
			want := lineOfText(text, lastLine[len(lastLine)-1])
			msg := err.Error()
			if !strings.Contains(msg, c.key) {
				t.Errorf("error %q does not name key %s", msg, c.key)
			}
			if !strings.Contains(msg, "config.toml:"+strconv.Itoa(want)+":") {
				t.Errorf("error %q does not name line %d", msg, want)
			}
		})
	}
}

func TestLedgerKeySources(t *testing.T) {
	c, err := Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAREPAY_LEDGER_KEY", "from-env")
	if k, err := c.LedgerKey(); err != nil || k != "from-env" {
		t.Errorf("env key: %q %v", k, err)
	}
	t.Setenv("CAREPAY_LEDGER_KEY", "")
	if _, err := c.LedgerKey(); err == nil || !strings.Contains(err.Error(), "CAREPAY_LEDGER_KEY is set but empty") {
		t.Errorf("a set but empty variable: %v", err)
	}
	os.Unsetenv("CAREPAY_LEDGER_KEY") // t.Setenv restores it after the test
	if k, err := c.LedgerKey(); err != nil || len(strings.TrimSpace(k)) != 64 {
		t.Errorf("file key: %d chars, %v", len(k), err)
	}
	c.Ledger.KeyFile = ""
	_, err = c.LedgerKey()
	if err == nil || !strings.Contains(err.Error(), "CAREPAY_LEDGER_KEY is not set") {
		t.Errorf("missing key error: %v", err)
	}
}

func TestNoPlansAndNoKeySource(t *testing.T) {
	_, err := Parse("c.toml", []byte("[ledger]\nkey_env = \"\"\nkey_file = \"\"\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"plans: no plans configured", "ledger.key_env"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestSourceStable checks stable and stable_wait for each type of source:
// a rule the type does not know, or a key that means nothing for it, is
// refused with the key's name.
func TestSourceStable(t *testing.T) {
	base := shipped(t)
	const folder = "[[sources]]\nname = \"f\"\ntype = \"folder\"\npath = \"in\"\n"
	const sftp = "[[sources]]\nname = \"s\"\ntype = \"sftp\"\naddr = \"h:22\"\nuser = \"u\"\nkey_file = \"k\"\nknown_hosts = \"kh\"\npath = \"in\"\n"
	const imap = "[[sources]]\nname = \"m\"\ntype = \"imap\"\naddr = \"h:993\"\nuser = \"u\"\npassword_env = \"P\"\nsecurity = \"tls\"\nallowed_senders = [\"a@b.test\"]\n"
	cases := []struct {
		name, add, key, says string
	}{
		{"folder_default", folder, "", ""},
		{"folder_age", folder + "stable = \"age\"\nstable_wait = \"30s\"\n", "", ""},
		{"folder_size", folder + "stable = \"size\"\nstable_wait = \"2s\"\n", "", ""},
		{"folder_done", folder + "stable = \"done\"\n", "", ""},
		{"folder_unknown_rule", folder + "stable = \"sometimes\"\n", "sources[1].stable", "want age, size, done"},
		{"folder_negative_wait", folder + "stable_wait = \"-1s\"\n", "sources[1].stable_wait", "negative"},
		{"done_with_a_wait", folder + "stable = \"done\"\nstable_wait = \"5s\"\n", "sources[1].stable_wait", `means nothing with stable = "done"`},
		{"sftp_size", sftp + "stable = \"size\"\nstable_wait = \"5s\"\n", "", ""},
		{"sftp_age_refused", sftp + "stable = \"age\"\n", "sources[1].stable", "want size, done"},
		{"sftp_done_with_a_wait", sftp + "stable = \"done\"\nstable_wait = \"5s\"\n", "sources[1].stable_wait", "means nothing"},
		{"imap_stable", imap + "stable = \"size\"\n", "sources[1].stable", "means nothing for an imap source"},
		{"imap_stable_wait", imap + "stable_wait = \"5s\"\n", "sources[1].stable_wait", "means nothing for an imap source"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("config.toml", []byte(base+"\n"+c.add))
			switch {
			case c.key == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.key == "":
				return
			case err == nil:
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.key+": ") || !strings.Contains(msg, c.says) {
				t.Errorf("error %q does not name %s and say %q", msg, c.key, c.says)
			}
		})
	}
}

// TestChecksDefaults: without a [checks] section a check is stale after
// 180 days, stale checks are listed but not voided, and the cleared-checks
// file has the columns check_number, amount and cleared_date; a void
// column alone tells voids from issues.
func TestChecksDefaults(t *testing.T) {
	base := shipped(t)
	i, j := strings.Index(base, "[checks]"), strings.Index(base, "# Drops:")
	if i < 0 || j < i {
		t.Fatal("no [checks] section before the sources in config.toml")
	}
	c, err := Parse("config.toml", []byte(base[:i]+base[j:]))
	if err != nil {
		t.Fatal(err)
	}
	want := Checks{StaleAfter: 180, ClearedColumns: ClearedColumns{CheckNumber: "check_number", Amount: "amount", ClearedDate: "cleared_date"}}
	if c.Checks != want {
		t.Errorf("checks %+v, want %+v", c.Checks, want)
	}
	text := strings.Replace(base, `"payee", "issue_flag"]`, `"payee", "void"]`, 1)
	if _, err := Parse("config.toml", []byte(text)); err != nil {
		t.Errorf("a void column: %v", err)
	}
}

// TestYearEndLimits: the shipped limits (5,000.00 for 2025, 7,500.00 from
// 2026) and earning code, a year added in config.toml, and the keys a bad
// value names.
func TestYearEndLimits(t *testing.T) {
	c, err := Parse("config.toml", []byte(shipped(t)))
	if err != nil {
		t.Fatal(err)
	}
	for year, want := range map[int]int64{2025: 5000_00, 2026: 7500_00} {
		if got, ok := c.YearEnd.ExclusionLimit(year); !ok || int64(got) != want {
			t.Errorf("%d: %v %v, want %d cents", year, got, ok, want)
		}
	}
	if _, ok := c.YearEnd.ExclusionLimit(2024); ok {
		t.Error("2024 has a limit, but none is configured")
	}
	if c.YearEnd.EarningCode != "DCEXCESS" {
		t.Errorf("earning code %q", c.YearEnd.EarningCode)
	}
	more := strings.Replace(shipped(t), `"2026" = "7500.00" }`, `"2026" = "7500.00", "2027" = "$7,600.00" }`, 1)
	if c, err = Parse("config.toml", []byte(more)); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.YearEnd.ExclusionLimit(2027); !ok || got != 7600_00 {
		t.Errorf("2027: %v %v, want 7,600.00", got, ok)
	}
	for _, tt := range []struct{ from, to, want string }{
		{`"2026" = "7500.00" }`, `"2026" = "7500.00", "26" = "1.00" }`, `year_end.exclusion_limits: "26": want a calendar year`},
		{`"2026" = "7500.00" }`, `"2026" = "0.00" }`, `year_end.exclusion_limits: 0.00 for 2026: want a positive amount`},
		{`earning_code = "DCEXCESS"`, `earning_code = " "`, `year_end.earning_code: empty`},
	} {
		_, err := Parse("config.toml", []byte(strings.Replace(shipped(t), tt.from, tt.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.to, err, tt.want)
		}
	}
}

// TestFallbackFonts checks letters.fallback_fonts: paths are relative to
// the config file, a TrueType font loads, and a missing file or one that
// is not a font is refused with the key and the file named.
func TestFallbackFonts(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fonts"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"DejaVuSans.ttf": dejavusans.TTF, "notes.ttf": []byte("these are notes, not a font")} {
		if err := os.WriteFile(filepath.Join(dir, "fonts", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, fonts string
		says        string // "" when the config loads
	}{
		{"none", `[]`, ""},
		{"truetype_relative_to_config", `["fonts/DejaVuSans.ttf"]`, ""},
		{"truetype_absolute", `["` + filepath.ToSlash(filepath.Join(dir, "fonts", "DejaVuSans.ttf")) + `"]`, ""},
		{"missing", `["fonts/DejaVuSans.ttf", "fonts/Missing.ttf"]`, `"fonts/Missing.ttf": open `},
		{"not_a_font", `["fonts/notes.ttf"]`, `"fonts/notes.ttf": not a TrueType or OpenType font`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(shipped(t), "print_batch_size = 5000", "print_batch_size = 5000\nfallback_fonts = "+tt.fonts, 1)
			path := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				for _, f := range c.Letters.FallbackFonts {
					if _, err := os.Stat(c.Resolve(f)); err != nil {
						t.Errorf("fallback font %s does not resolve to its file: %v", f, err)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); !strings.Contains(msg, "letters.fallback_fonts: ") || !strings.Contains(msg, tt.says) {
				t.Errorf("error %q does not name letters.fallback_fonts and say %q", msg, tt.says)
			}
		})
	}
}

// TestLedgerTarget: the SQLite path resolved against the config's folder;
// the PostgreSQL URL with the password from password_env (which wins) or
// password_file put in, and left as written with neither.
func TestLedgerTarget(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://carepay@db.example.com:5432/payments?sslmode=verify-full"
	t.Setenv("CAREPAY_TEST_PW", "from-env")
	for _, c := range []struct {
		name   string
		ledger Ledger
		want   string
	}{
		{"sqlite", Ledger{Driver: "sqlite", Path: "carepay.db"}, filepath.Join(dir, "carepay.db")},
		{"postgres_env", Ledger{Driver: "postgres", DSN: dsn, PasswordEnv: "CAREPAY_TEST_PW", PasswordFile: "pw"}, "postgres://carepay:from-env@db.example.com:5432/payments?sslmode=verify-full"},
		{"postgres_file", Ledger{Driver: "postgres", DSN: dsn, PasswordEnv: "CAREPAY_TEST_UNSET", PasswordFile: "pw"}, "postgres://carepay:from-file@db.example.com:5432/payments?sslmode=verify-full"},
		{"postgres_neither", Ledger{Driver: "postgres", DSN: dsn}, dsn},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := &Config{Ledger: c.ledger, path: filepath.Join(dir, "config.toml")}
			got, err := cfg.LedgerTarget()
			if err != nil || got != c.want {
				t.Errorf("LedgerTarget() = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	// A password source named but giving nothing is an error, never a
	// quiet connection without the password (or with another).
	if err := os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAREPAY_TEST_EMPTY", "")
	for _, c := range []struct {
		name   string
		ledger Ledger
		want   string
	}{
		{"env_set_empty", Ledger{Driver: "postgres", DSN: dsn, PasswordEnv: "CAREPAY_TEST_EMPTY", PasswordFile: "pw"}, "environment variable CAREPAY_TEST_EMPTY is set but empty"},
		{"env_unset_no_file", Ledger{Driver: "postgres", DSN: dsn, PasswordEnv: "CAREPAY_TEST_UNSET"}, "environment variable CAREPAY_TEST_UNSET is not set and ledger.password_file is not configured"},
		{"file_empty", Ledger{Driver: "postgres", DSN: dsn, PasswordFile: "empty"}, "ledger.password_file " + filepath.Join(dir, "empty") + " is empty"},
		{"file_missing", Ledger{Driver: "postgres", DSN: dsn, PasswordFile: "missing"}, "reading ledger.password_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := &Config{Ledger: c.ledger, path: filepath.Join(dir, "config.toml")}
			got, err := cfg.LedgerTarget()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("LedgerTarget() = %q, %v; want an error saying %q", got, err, c.want)
			}
		})
	}
}
