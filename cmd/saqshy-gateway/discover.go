package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/discover"
)

const discoverHelp = `Usage: saqshy-gateway discover [--mqtt URL] [--seconds 60] [--username USER --password-file FILE]

Listens to everything on an MQTT broker for a while (progress on stderr; Ctrl-C
stops early) and lists what it heard, grouped by format: Zigbee2MQTT, Tasmota,
ESPHome, Shelly, BLE thermometers, LoRaWAN (ChirpStack), Frigate and Saqshy
firmware, each device with its latest values, whether it says it is online, and
its family and firmware (Sonoff Zigbee Bridge through Tasmota ZbReceived, BLE
thermometers through Tasmota MI32, OpenMQTTGateway, Theengs Gateway, BTHome, Shelly
gen1/gen2+/BLU, ChirpStack, ...; see docs/DEVICES.md). Climate sensors that announced
themselves by Home Assistant discovery but did not report are listed too.
Shelly BLU sensors (bthomesensor:N of a Shelly gen2+ device) say only a value:
discover asks the Shelly device what each measures (Shelly.GetComponents) and
prints quantity: QUANTITY for one that does not answer. Home Assistant discovery messages
(homeassistant/+/+/config), when present, give devices their names and models.

Then it prints a ready-to-paste sensors: / cameras: block for the centre config.
Replace every ZONE with a zone id from the config's zones: (each line's comment
shows what the device measured, to tell which room it is in), delete what is not
ours, and run check-config.

Battery devices report rarely (Zigbee every few minutes, Shelly H&T gen1 every few
hours unless woken with its button): listen longer, or wake them, to catch them.

The password is read from --password-file or SAQSHY_MQTT_PASSWORD.
`

func discoverCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("discover", discoverHelp, stderr)
	url := fs.String("mqtt", config.DefaultMQTTURL, "broker `URL` (tcp://, ssl://, ws://)")
	seconds := fs.Int("seconds", 60, "how long to listen")
	user := fs.String("username", "", "MQTT user name")
	passFile := fs.String("password-file", "", "`file` holding the MQTT password")
	caFile := fs.String("ca-file", "", "PEM `file` to verify a TLS broker")
	tz := fs.String("timezone", config.DefaultTimezone, "the centre's time zone (Tasmota sends local time)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "saqshy-gateway discover: unexpected argument %q (the broker goes after --mqtt)\n", fs.Arg(0))
		return 2
	}
	if *seconds <= 0 {
		fmt.Fprintln(stderr, "saqshy-gateway discover: --seconds must be positive")
		return 2
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway discover: --timezone: %v\n", err)
		return 2
	}
	pass, err := config.Secret(*passFile, config.EnvMQTTPassword)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway discover: %v\n", err)
		return 1
	}
	res, err := discover.Listen(ctx, discover.Options{
		URL: *url, Username: *user, Password: pass, CAFile: *caFile,
		Duration: time.Duration(*seconds) * time.Second, Progress: stderr, Location: loc,
	})
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway discover: %v\n", err)
		fmt.Fprintln(stderr, "check that the broker runs (systemctl status mosquitto), the URL, and the user and password")
		return 1
	}
	if err := res.WriteReport(stdout, time.Now()); err != nil {
		return 1
	}
	fmt.Fprintln(stdout)
	if err := res.WriteConfig(stdout); err != nil {
		return 1
	}
	return 0
}
