//go:build tools

// Package tools pins the OpenIM server commands that cutover builds for its local
// stack. No OpenIM code lives here: `go build` compiles them from the module cache.
package tools

import (
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-api"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-crontask"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-msggateway"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-msgtransfer"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-push"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-auth"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-conversation"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-friend"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-group"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-msg"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-third"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-user"
)
