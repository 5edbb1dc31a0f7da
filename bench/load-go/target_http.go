package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// paxosHTTPTarget speaks paxos-kv's native HTTP API over keep-alive connections: PUT
// /v1/kv/{key}, GET, and GET ?consistency=stale. Client i uses endpoint i mod n; the transport
// keeps one connection per client, so each client is one connection as in wrk and autocannon.
type paxosHTTPTarget struct {
	endpoints []string
	http      *http.Client
}

type paxosHTTPClient struct {
	endpoint string
	http     *http.Client
}

func newPaxosHTTPTarget(endpoints []string, clients int) *paxosHTTPTarget {
	transport := &http.Transport{
		Proxy:               nil, // the cluster is local; an HTTP_PROXY in the environment must not matter
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        clients * len(endpoints),
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	trimmed := make([]string, len(endpoints))
	for i, endpoint := range endpoints {
		trimmed[i] = strings.TrimRight(endpoint, "/")
	}
	return &paxosHTTPTarget{endpoints: trimmed, http: &http.Client{Transport: transport}}
}

func (t *paxosHTTPTarget) client(index int) storeClient {
	return paxosHTTPClient{endpoint: t.endpoints[index%len(t.endpoints)], http: t.http}
}

func (t *paxosHTTPTarget) close() { t.http.CloseIdleConnections() }

func (c paxosHTTPClient) put(ctx context.Context, key string, value []byte) error {
	return c.do(ctx, http.MethodPut, c.endpoint+"/v1/kv/"+key, value)
}

func (c paxosHTTPClient) get(ctx context.Context, key string, linearizable bool) error {
	url := c.endpoint + "/v1/kv/" + key
	if !linearizable {
		url += "?consistency=stale"
	}
	return c.do(ctx, http.MethodGet, url, nil)
}

func (c paxosHTTPClient) do(ctx context.Context, method string, url string, body []byte) error {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	request, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		return &opError{kind: "request", detail: err.Error()}
	}
	response, err := c.http.Do(request)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &opError{kind: "timeout", detail: err.Error()}
		}
		return &opError{kind: "connection", detail: err.Error()}
	}
	// Read the body to its end so the connection goes back to the pool for the next request.
	_, readErr := io.Copy(io.Discard, response.Body)
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return &opError{kind: fmt.Sprintf("http_%d", response.StatusCode), detail: method + " " + url}
	}
	if readErr != nil {
		return &opError{kind: "connection", detail: readErr.Error()}
	}
	return nil
}
