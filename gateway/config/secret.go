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
