package profiles

import (
	"bytes"
	"io/fs"
	"os"
	"testing"
)

func TestEmbedded(t *testing.T) {
	for _, name := range []string{"default.toml", "no-jitter.toml", "full-jitter.toml", "socketio-client.toml"} {
		embedded, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatalf("FS lacks %s: %v", name, err)
		}
		onDisk, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, onDisk) {
			t.Errorf("embedded %s differs from the file", name)
		}
	}
	if onDisk, _ := os.ReadFile("default.toml"); !bytes.Equal(Default, onDisk) {
		t.Error("Default differs from default.toml")
	}
}
