// Command s3-standin is the in-memory S3 server that plays MinIO's role in cutover's
// local stack. openim-rpc-third checks its bucket at start and exits when the bucket
// is missing, so the bucket is created before the listener reports ready.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:10005", "listen address (host:port)")
	bucket := flag.String("bucket", "openim", "bucket to create at start")
	flag.Parse()

	backend := s3mem.New()
	if err := backend.CreateBucket(*bucket); err != nil {
		fmt.Fprintf(os.Stderr, "s3-standin: cannot create bucket %q: %v\n", *bucket, err)
		os.Exit(1)
	}
	faker := gofakes3.New(backend)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "s3-standin: cannot listen on %s: %v\n", *addr, err)
		os.Exit(1)
	}
	server := &http.Server{Handler: faker.Server()}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		_ = server.Close()
	}()
	fmt.Printf("s3-standin listening on %s (bucket=%s)\n", ln.Addr(), *bucket)
	if err := server.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "s3-standin: %v\n", err)
		os.Exit(1)
	}
}
