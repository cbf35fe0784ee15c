package doctor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestDoctorACLDeniesReads: the broker accepts the login and the SUBSCRIBE but its ACL
// denies the gateway's account every read. doctor's MQTT check fails and says how to
// fix the ACL. Before, it passed ("reachable and accepted") and only the sensors were
// reported silent.
func TestDoctorACLDeniesReads(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", passwd, "saqshy", mqttPassword).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	acl := filepath.Join(dir, "acl")
	if err := os.WriteFile(acl, []byte("user saqshy\ntopic write #\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: fmt.Sprintf("allow_anonymous false\npassword_file %s\nacl_file %s\n", passwd, acl)})
	passFile := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(passFile, []byte(mqttPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{mq: mq, dir: dir, passFile: passFile, almaty: time.UTC}
	c := centre{tag: "acl", mqttURL: mq.URL(), passFile: passFile, spoolDir: t.TempDir()}
	r, out := e.run(t, c, Options{})
	if r.OK() {
		t.Error("ACL denying reads: report OK")
	}
	wantStatus(t, r, "mqtt", Fail)
	wantLines(t, out,
		"✗ MQTT broker "+mq.URL()+` accepted user "saqshy" and its subscriptions but delivers nothing`,
		`"topic read #" and "topic readwrite saqshy/#" under "user saqshy"`,
		"– 3 sensors not checked: the broker delivers nothing",
	)
}
