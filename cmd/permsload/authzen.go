package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// authzenBodies maps Data API bodies, {"input": {user, instance, permission | method and path,
// resource}}, to AuthZEN evaluation requests that permsd maps back to the same inputs.
func authzenBodies(bodies [][]byte) ([][]byte, error) {
	out := make([][]byte, len(bodies))
	for i, b := range bodies {
		var v struct {
			Input map[string]any `json:"input"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		in := v.Input
		res, _ := in["resource"].(map[string]any)
		props := map[string]any{}
		id := "-"
		for k, x := range res {
			if k == "id" {
				id, _ = x.(string)
				continue
			}
			props[k] = x
		}
		req := map[string]any{
			"subject": map[string]any{"type": "user", "id": in["user"]},
			"context": map[string]any{"instance": in["instance"]},
		}
		if m, ok := in["method"].(string); ok {
			req["action"] = map[string]any{"name": m}
			req["resource"] = map[string]any{"type": "route", "id": in["path"], "properties": props}
		} else {
			req["action"] = map[string]any{"name": in["permission"]}
			req["resource"] = map[string]any{"type": "resource", "id": id, "properties": props}
		}
		var err error
		if out[i], err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameAuthZENAnswers checks that the AuthZEN endpoint decides as the Data API's allow does.
func sameAuthZENAnswers(data, authzen *target, bodies, azBodies [][]byte) error {
	client := newClient(1)
	for i := range bodies {
		want, err := post(client, data.url, bodies[i])
		if err != nil {
			return fmt.Errorf("data API: %w", err)
		}
		resp, err := client.Post(authzen.url, "application/json", bytes.NewReader(azBodies[i]))
		if err != nil {
			return err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("authzen: status %d: %s", resp.StatusCode, raw)
		}
		var got struct {
			Decision bool `json:"decision"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			return err
		}
		if string(want) != fmt.Sprint(got.Decision) {
			return fmt.Errorf("input %s: the Data API answers %s, AuthZEN %s", bodies[i], want, raw)
		}
	}
	return nil
}
