package config

import (
	"slices"
	"strings"
	"testing"
)

func TestCORSAllowedOrigins(t *testing.T) {
	d, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.HTTP.CORS.AllowedOrigins) != 0 {
		t.Errorf("default allowed_origins = %q, want none (CORS off)", d.HTTP.CORS.AllowedOrigins)
	}
	c, err := Load("", []string{"SOOMCARE_HTTP_CORS_ALLOWED_ORIGINS=https://app.soomcare.kr,http://localhost:5173"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://app.soomcare.kr", "http://localhost:5173"}; !slices.Equal(c.HTTP.CORS.AllowedOrigins, want) {
		t.Errorf("allowed_origins = %q, want %q", c.HTTP.CORS.AllowedOrigins, want)
	}
	for _, o := range []string{"*", "https://*.soomcare.kr", "app.soomcare.kr", "https://app.soomcare.kr/",
		"https://app.soomcare.kr/path", "https://App.Soomcare.kr", "ftp://app.soomcare.kr", "null",
		"https://user@app.soomcare.kr", "https://app.soomcare.kr?x=1", ""} {
		_, err := Load(writeFile(t, "http:\n  cors:\n    allowed_origins: ['"+o+"']\n"), nil)
		if err == nil || !IsConfigError(err) || !strings.Contains(err.Error(), "http.cors.allowed_origins") {
			t.Errorf("allowed_origins [%q]: err = %v, want a config error naming the key", o, err)
		}
	}
}
