package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/saqshy/saqshy/gateway/config"
)

func checkClock(_ *config.Config, opt *Options) Check {
	c := Check{Name: "clock"}
	switch {
	case opt.Clock == nil:
		c.Status, c.Title = Skip, "Clock synchronisation not checked"
	case opt.Clock.Synced():
		c.Status, c.Title = Pass, fmt.Sprintf("System clock is synchronised (%s)", opt.Now().In(opt.Local).Format("2006-01-02 15:04 MST"))
	default:
		c.Status, c.Title = Fail, fmt.Sprintf("System clock is not synchronised (it says %s)", opt.Now().In(opt.Local).Format("2006-01-02 15:04 MST"))
		c.Fix = "the Pi has no battery clock: it needs NTP. Check the network, then: timedatectl; chronyc tracking (install chrony: deploy/pi/install.sh does).\n" +
			"Until the clock is synchronised the gateway flags every reading and does not judge night rounds."
	}
	return c
}

func checkTimezone(cfg *config.Config, opt *Options) Check {
	c := Check{Name: "timezone"}
	centre := cfg.Centre.Location
	if centre == nil {
		c.Status, c.Title = Skip, "Time zone not checked"
		return c
	}
	now := opt.Now()
	_, sysOff := now.In(opt.Local).Zone()
	_, cenOff := now.In(centre).Zone()
	if sysOff == cenOff {
		c.Status, c.Title = Pass, fmt.Sprintf("Time zone: the Pi (%s) and the centre (%s) agree, UTC%s", opt.Local, cfg.Centre.Timezone, offset(cenOff))
		return c
	}
	c.Status = Warn
	c.Title = fmt.Sprintf("Time zone: the Pi is on %s (UTC%s) but the centre is %s (UTC%s)", opt.Local, offset(sysOff), cfg.Centre.Timezone, offset(cenOff))
	c.Fix = fmt.Sprintf("the gateway schedules by centre.timezone, but logs and this Pi's tools show the Pi's own zone: sudo timedatectl set-timezone %s (or correct centre.timezone)", cfg.Centre.Timezone)
	return c
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := sign + strconv.Itoa(sec/3600)
	if m := sec % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// MinFreeBytes is the least free space doctor accepts on the spool's file system.
const MinFreeBytes = 100 << 20

func checkSpool(cfg *config.Config) Check {
	c := Check{Name: "spool"}
	dir := cfg.Spool.Dir
	fixDir := fmt.Sprintf("sudo install -d -o saqshy -g saqshy -m 0750 %s (deploy/pi/install.sh does this), and run doctor as the saqshy user: sudo -u saqshy saqshy-gateway doctor …", dir)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Status, c.Title, c.Fix = Fail, fmt.Sprintf("Spool directory %s does not exist", dir), fixDir
		return c
	case err != nil:
		c.Status, c.Title, c.Fix = Fail, fmt.Sprintf("Spool directory %s cannot be read: %v", dir, err), fixDir
		return c
	case !st.IsDir():
		c.Status, c.Title, c.Fix = Fail, fmt.Sprintf("Spool directory %s is not a directory", dir), "point spool.dir at a directory"
		return c
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err == nil {
		_, err = f.Write([]byte("saqshy doctor write test\n"))
		if err2 := f.Sync(); err == nil {
			err = err2
		}
		if err2 := f.Close(); err == nil {
			err = err2
		}
		if err2 := os.Remove(f.Name()); err == nil {
			err = err2
		}
	}
	if err != nil {
		c.Status, c.Title, c.Fix = Fail, fmt.Sprintf("Spool directory %s is not writable: %v", dir, err), fixDir
		return c
	}
	free, err := freeBytes(dir)
	if err != nil {
		c.Status, c.Title = Warn, fmt.Sprintf("Spool directory %s is writable; free space unknown: %v", dir, err)
		return c
	}
	max := int64(cfg.Spool.MaxBytes)
	switch {
	case free < MinFreeBytes:
		c.Status = Fail
		c.Title = fmt.Sprintf("Spool directory %s is writable but only %s is free", dir, bytesWords(free))
		c.Fix = "free space on the SD card (sudo journalctl --vacuum-size=50M; sudo apt-get clean) or use a larger card"
	case free < max:
		c.Status = Warn
		c.Title = fmt.Sprintf("Spool directory %s is writable, %s free, less than spool.max_bytes (%s)", dir, bytesWords(free), bytesWords(max))
		c.Fix = "lower spool.max_bytes below the free space, or the card fills up before the spool's limit during a long outage"
	default:
		c.Status = Pass
		c.Title = fmt.Sprintf("Spool directory %s is writable, %s free (spool limit %s)", dir, bytesWords(free), bytesWords(max))
	}
	return c
}

func bytesWords(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func checkBuses(cfg *config.Config, opt *Options) Check {
	c := Check{Name: "buses"}
	var w1 []config.Sensor
	i2c := map[string][]string{} // device file -> sensor ids
	for _, s := range cfg.Sensors {
		switch {
		case s.Source == config.SourceDS18B20:
			w1 = append(w1, s)
		case s.Local():
			dev := s.Device() // "i2c1:0x44"
			bus := strings.TrimPrefix(dev[:strings.IndexByte(dev+":", ':')], "i2c")
			i2c["i2c-"+bus] = append(i2c["i2c-"+bus], s.ID)
		}
	}
	if len(w1) == 0 && len(i2c) == 0 {
		c.Status, c.Title = Skip, "1-Wire and I2C buses not checked: no sensors are wired to the Pi"
		return c
	}
	c.Status = Pass
	var fixes []string
	if len(w1) > 0 {
		if _, err := os.Stat(opt.W1Root); err != nil {
			c.Status = Fail
			c.Items = append(c.Items, Item{Fail, fmt.Sprintf("1-Wire bus: %s is missing, so the w1-gpio overlay is not loaded", opt.W1Root)})
			fixes = append(fixes, "enable 1-Wire: add dtoverlay=w1-gpio (GPIO4) to /boot/firmware/config.txt (firmware-config/raspberry-pi/config.txt) and reboot")
		} else {
			for _, s := range w1 {
				addr := s.Device()
				if _, err := os.Stat(filepath.Join(opt.W1Root, addr)); err != nil {
					c.Status = Fail
					c.Items = append(c.Items, Item{Fail, fmt.Sprintf("%s — %s: DS18B20 %s is not on the 1-Wire bus", s.ID, zoneLabel(cfg, s.Zone), addr)})
					fixes = append(fixes, "check the probe's wiring (data to GPIO4, 4.7 kΩ pull-up to 3.3 V) and its address: ls "+opt.W1Root)
				} else {
					c.Items = append(c.Items, Item{Pass, fmt.Sprintf("%s — %s: DS18B20 %s is on the 1-Wire bus", s.ID, zoneLabel(cfg, s.Zone), addr)})
				}
			}
		}
	}
	buses := make([]string, 0, len(i2c))
	for b := range i2c {
		buses = append(buses, b)
	}
	slices.Sort(buses)
	for _, b := range buses {
		p := filepath.Join(opt.DevRoot, b)
		if _, err := os.Stat(p); err != nil {
			c.Status = Fail
			c.Items = append(c.Items, Item{Fail, fmt.Sprintf("I2C bus %s is missing (needed by %s)", p, strings.Join(i2c[b], ", "))})
			fixes = append(fixes, "enable I2C: dtparam=i2c_arm=on in /boot/firmware/config.txt (or sudo raspi-config nonint do_i2c 0) and reboot")
		} else {
			c.Items = append(c.Items, Item{Pass, fmt.Sprintf("I2C bus %s is present (for %s)", p, strings.Join(i2c[b], ", "))})
		}
	}
	if c.Status == Pass {
		c.Title = "1-Wire and I2C buses for the sensors wired to the Pi are present"
	} else {
		c.Title = "Buses for the sensors wired to the Pi are missing"
		slices.Sort(fixes)
		c.Fix = strings.Join(slices.Compact(fixes), "\n") + "\nthen `saqshy-gateway sensors` lists every probe it sees"
	}
	return c
}
