module github.com/wsstorm/wsstorm

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/gorilla/websocket v1.5.3
	golang.org/x/sync v0.25.0
	golang.org/x/time v0.16.0
)
