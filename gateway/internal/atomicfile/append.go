package atomicfile

import (
	"encoding/json"
	"os"
)

// AppendJSONLine appends v as one JSON line to the log at path (created with mode
// 0640 before the umask) and fsyncs it before returning: an audit line that was
// reported written survives a power cut. Callers appending from several
// goroutines hold their own lock.
func AppendJSONLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
