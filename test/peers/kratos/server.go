package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	kuberegistry "github.com/go-kratos/kratos/contrib/registry/kubernetes/v2"
	"github.com/go-kratos/kratos/v2"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"

	"kratos-kube/test-peers/internal/greeter"
)

// parseMetadata parses "k=v,k2=v2" (empty: no metadata).
func parseMetadata(s string) (map[string]string, error) {
	md := map[string]string{}
	if s == "" {
		return md, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-metadata: %q is not key=value", kv)
		}
		md[k] = v
	}
	return md, nil
}

func runServer(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of the API server")
	addr := fs.String("addr", "127.0.0.1:0", "gRPC listen address")
	name := fs.String("name", "helloworld", "service name")
	version := fs.String("version", "v1", "service version")
	metadata := fs.String("metadata", "", "service metadata, k=v,k2=v2")
	id := fs.String("id", "", "instance id (default: Kratos's, a UUID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	md, err := parseMetadata(*metadata)
	if err != nil {
		return err
	}
	// The registry patches the Pod named $HOSTNAME in the namespace it read
	// at start; without either it would patch the wrong object or fail late.
	if kuberegistry.GetNamespace() == "" {
		return fmt.Errorf("no namespace in %s (run in a mount namespace that provides it)", kuberegistry.ServiceAccountNamespacePath)
	}
	if kuberegistry.GetPodName() == "" {
		return fmt.Errorf("$HOSTNAME (the Pod name) is not set")
	}
	cs, err := clientset(*kubeconfig)
	if err != nil {
		return err
	}
	reg := kuberegistry.NewRegistry(cs, kuberegistry.GetNamespace())

	g := &greeter.Server{}
	srv := kgrpc.NewServer(kgrpc.Address(*addr))
	srv.RegisterService(&greeter.ServiceDesc, g)

	opts := []kratos.Option{
		kratos.Name(*name),
		kratos.Version(*version),
		kratos.Metadata(md),
		kratos.Server(srv),
		kratos.Registrar(reg),
	}
	if *id != "" {
		opts = append(opts, kratos.ID(*id))
	}
	var app *kratos.App
	opts = append(opts, kratos.AfterStart(func(context.Context) error {
		fmt.Printf("READY %s\n", strings.Join(app.Endpoint(), " "))
		return nil
	}))
	app = kratos.New(opts...)
	g.From = app.ID()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = app.Stop()
	}()
	if err := app.Run(); err != nil {
		return err
	}
	fmt.Println("STOPPED")
	return nil
}
