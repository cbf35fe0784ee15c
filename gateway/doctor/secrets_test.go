package doctor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A secret file every user can read is a warning naming the field, the file and
// chmod 600 (issue 18 item 12); private, it passes.
func TestSecretFilesReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(pass, []byte("pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "centre.yaml")
	cfgText := fmt.Sprintf("centre: {id: c1}\nmqtt: {username: saqshy, password_file: %q}\nspool: {dir: %q}\nzones: [{id: room, kind: living}]\n",
		pass, filepath.Join(dir, "spool"))
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadForTest(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{}
	r.add(checkSecretFiles(c))
	var b bytes.Buffer
	r.WriteTo(&b)
	wantStatus(t, r, "secret-files", Warn)
	wantLines(t, b.String(), "1 secret file(s) readable by others",
		"mqtt.password_file: secret file "+pass+" is readable by every user (mode 0644): chmod 600 "+pass)

	if err := os.Chmod(pass, 0o600); err != nil {
		t.Fatal(err)
	}
	r = &Report{}
	r.add(checkSecretFiles(c))
	wantStatus(t, r, "secret-files", Pass)
}
