package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	kuberegistry "github.com/go-kratos/kratos/contrib/registry/kubernetes/v2"
	"github.com/go-kratos/kratos/v2/registry"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"kratos-kube/test-peers/internal/greeter"
)

// instance is a registry.ServiceInstance as the tests compare it.
type instance struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Version   string            `json:"version"`
	Metadata  map[string]string `json:"metadata"`
	Endpoints []string          `json:"endpoints"`
}

func instances(in []*registry.ServiceInstance) []instance {
	out := make([]instance, 0, len(in))
	for _, s := range in {
		out = append(out, instance{ID: s.ID, Name: s.Name, Version: s.Version, Metadata: s.Metadata, Endpoints: s.Endpoints})
	}
	return out
}

// client answers the commands read from stdin, one JSON line each:
//
//	call <name>        {"cmd":"call","reply":"..."} or {"cmd":"call","code":"Unavailable","message":"..."}
//	                   (SayHello through discovery:///<name>; the connection is dialled once per name)
//	getservice <name>  {"cmd":"getservice","instances":[{id,name,version,metadata,endpoints}...]}
//	watch <name>       {"cmd":"watch"}, then {"event":"watch","service":"<name>","instances":[...]} per update
//
// A command it cannot run gets {"cmd":"<cmd>","code":"...","message":"..."}.
type client struct {
	reg     *kuberegistry.Registry
	timeout time.Duration
	conns   map[string]*grpc.ClientConn
	outMu   sync.Mutex
	out     *json.Encoder
}

func (c *client) print(v any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	_ = c.out.Encode(v)
}

func (c *client) fail(cmd string, err error) {
	st, _ := status.FromError(err)
	c.print(map[string]any{"cmd": cmd, "code": st.Code().String(), "message": st.Message()})
}

func (c *client) conn(name string) (*grpc.ClientConn, error) {
	if cc, ok := c.conns[name]; ok {
		return cc, nil
	}
	cc, err := kgrpc.DialInsecure(context.Background(),
		kgrpc.WithEndpoint("discovery:///"+name),
		kgrpc.WithDiscovery(c.reg),
		kgrpc.WithTimeout(c.timeout),
	)
	if err != nil {
		return nil, err
	}
	c.conns[name] = cc
	return cc, nil
}

func (c *client) run(line string) {
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	if cmd == "" {
		return
	}
	if arg == "" {
		c.print(map[string]any{"cmd": cmd, "code": "InvalidArgument", "message": "missing service name"})
		return
	}
	switch cmd {
	case "call":
		cc, err := c.conn(arg)
		if err != nil {
			c.fail(cmd, err)
			return
		}
		reply, err := greeter.Call(context.Background(), cc, "kratos-go")
		if err != nil {
			c.fail(cmd, err)
			return
		}
		c.print(map[string]any{"cmd": cmd, "reply": reply})
	case "getservice":
		got, err := c.reg.GetService(context.Background(), arg)
		if err != nil {
			c.fail(cmd, err)
			return
		}
		c.print(map[string]any{"cmd": cmd, "instances": instances(got)})
	case "watch":
		w, err := c.reg.Watch(context.Background(), arg)
		if err != nil {
			c.fail(cmd, err)
			return
		}
		c.print(map[string]any{"cmd": cmd})
		go func() {
			for {
				got, err := w.Next()
				if err != nil {
					return
				}
				c.print(map[string]any{"event": "watch", "service": arg, "instances": instances(got)})
			}
		}()
	default:
		c.print(map[string]any{"cmd": cmd, "code": "InvalidArgument", "message": fmt.Sprintf("unknown command %q (want call, getservice or watch)", cmd)})
	}
}

func runClient(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of the API server")
	namespace := fs.String("namespace", "", "namespace to discover in (default: all)")
	timeout := fs.Duration("timeout", 2*time.Second, "per-call timeout (Kratos's default), also the resolver's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cs, err := clientset(*kubeconfig)
	if err != nil {
		return err
	}
	reg := kuberegistry.NewRegistry(cs, *namespace)
	reg.Start() // returns once the Pod informer has synced
	defer reg.Close()
	c := &client{reg: reg, timeout: *timeout, conns: map[string]*grpc.ClientConn{}, out: json.NewEncoder(os.Stdout)}
	fmt.Println("READY")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		c.run(sc.Text())
	}
	for _, cc := range c.conns {
		_ = cc.Close()
	}
	return sc.Err()
}
