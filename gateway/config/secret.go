package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables that override the secret files named in the config.
const (
	EnvMQTTPassword = "SAQSHY_MQTT_PASSWORD"
	EnvInfluxToken  = "SAQSHY_INFLUX_TOKEN"
)

// Secret returns a secret: the value of the environment variable envVar when it is
// set and not empty, otherwise the content of file with surrounding whitespace
// trimmed. It returns "" and no error when neither is given (no secret
// configured). Errors name the file or the variable, never the secret.
func Secret(file, envVar string) (string, error) {
	if envVar != "" {
		if v, ok := os.LookupEnv(envVar); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), nil
		}
	}
	if file == "" {
		return "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("secret file %s: %w", file, pe.Err)
		}
		return "", fmt.Errorf("secret file %s: %w", file, err)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", file)
	}
	return s, nil
}

// MQTTPassword returns the broker password from SAQSHY_MQTT_PASSWORD or
// mqtt.password_file; "" when neither is set.
func (c *Config) MQTTPassword() (string, error) {
	return Secret(c.MQTT.PasswordFile, EnvMQTTPassword)
}

// InfluxToken returns the InfluxDB token from SAQSHY_INFLUX_TOKEN or
// influx.token_file; "" when neither is set.
func (c *Config) InfluxToken() (string, error) {
	return Secret(c.Influx.TokenFile, EnvInfluxToken)
}

// CheckSecretFile reports a secret file that someone other than the gateway can
// read: world-readable, or group-readable by a group the gateway does not run in
// (0640 root:saqshy, the documented deployment, is fine). The error names the file,
// its mode and the fix; nil when the file is private or cannot be examined (a
// missing or unreadable file is Secret's error, not this one's).
func CheckSecretFile(file string) error {
	if file == "" {
		return nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return nil
	}
	mode := info.Mode().Perm()
	switch {
	case mode&0o004 != 0:
		return fmt.Errorf("secret file %s is readable by every user (mode %04o): chmod 600 %s", file, mode, file)
	case mode&0o040 != 0:
		if gid, ok := fileGID(info); ok && !inGroup(gid) {
			return fmt.Errorf("secret file %s is readable by group %d, which the gateway does not run in (mode %04o): chmod 600 %s (or chgrp it to the gateway's group)",
				file, gid, mode, file)
		}
	}
	return nil
}

// inGroup reports whether the process runs with group gid.
func inGroup(gid uint32) bool {
	if uint32(os.Getegid()) == gid {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if uint32(g) == gid {
			return true
		}
	}
	return false
}

// secretFiles returns the configured secret files by config field.
func (c *Config) secretFiles() [][2]string {
	out := [][2]string{
		{"mqtt.password_file", c.MQTT.PasswordFile},
		{"influx.token_file", c.Influx.TokenFile},
		{"status.password_file", c.Status.PasswordFile},
		{"alerts.api_token_file", c.Alerts.APITokenFile},
		{"alerts.telegram.token_file", c.Alerts.Telegram.TokenFile},
		{"alerts.smtp.password_file", c.Alerts.SMTP.PasswordFile},
		{"alerts.webhook.secret_file", c.Alerts.Webhook.SecretFile},
	}
	for _, cam := range c.Cameras {
		out = append(out, [2]string{"cameras[" + cam.ID + "].password_file", cam.PasswordFile})
	}
	return out
}

// SecretWarnings returns one line per configured secret file others can read
// ([CheckSecretFile]), naming the config field: run logs them as warnings at
// start, check-config and doctor show them. Nothing is refused: the gateway runs.
func (c *Config) SecretWarnings() []string {
	var out []string
	for _, f := range c.secretFiles() {
		if err := CheckSecretFile(f[1]); err != nil {
			out = append(out, f[0]+": "+err.Error())
		}
	}
	return out
}
