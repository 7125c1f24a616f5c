package config

import (
	"strings"
	"testing"
)

func TestCDCSourceDSN(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string // "" = valid
	}{
		{"unset: the primary", nil, ""},
		{"a replica of the same schema", []string{"SOOMCARE_CDC_SOURCE_DSN=cdc:pw@tcp(replica:3306)/soomcare"}, ""},
		{"not a DSN", []string{"SOOMCARE_CDC_SOURCE_DSN=not a dsn"}, "cdc.source_dsn: is not a valid DSN"},
		{"another schema", []string{"SOOMCARE_CDC_SOURCE_DSN=cdc:pw@tcp(replica:3306)/other"}, `cdc.source_dsn: names database "other" but mysql.dsn names "soomcare"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", append([]string{"SOOMCARE_MYSQL_DSN=app:pw@tcp(db:3306)/soomcare"}, tt.env...))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !IsConfigError(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if c != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("the error shows the DSN's password: %v", err)
			}
		})
	}
}

func TestMaskedHidesSourceDSNPassword(t *testing.T) {
	c, err := Load("", []string{"SOOMCARE_MYSQL_DSN=app:pw@tcp(db:3306)/soomcare", "SOOMCARE_CDC_SOURCE_DSN=cdc:r3plica@tcp(replica:3306)/soomcare"})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	if strings.Contains(m.CDC.SourceDSN, "r3plica") || !strings.Contains(m.CDC.SourceDSN, "replica:3306") {
		t.Errorf("masked source dsn = %q", m.CDC.SourceDSN)
	}
	if c.CDC.SourceDSN != "cdc:r3plica@tcp(replica:3306)/soomcare" {
		t.Error("Masked must not change the original")
	}
}
