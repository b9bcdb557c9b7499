package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core/dpop"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// proofCheck are token inspect's DPoP flags.
type proofCheck struct {
	proof, method, url string
}

func (pc *proofCheck) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&pc.proof, "dpop-proof", "", "a DPoP proof (the DPoP header's value) to check with the token")
	fs.StringVar(&pc.method, "method", "", "with --dpop-proof: the method of the request the proof is for")
	fs.StringVar(&pc.url, "url", "", "with --dpop-proof: the URL of the request the proof is for")
}

// proofJSON is the -o json form of a checked proof.
type proofJSON struct {
	OK         bool      `json:"ok"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	Alg        string    `json:"alg,omitempty"`
	Thumbprint string    `json:"jkt,omitempty"`
	HTM        string    `json:"htm,omitempty"`
	HTU        string    `json:"htu,omitempty"`
	IssuedAt   time.Time `json:"iat,omitzero"`
	// RequestChecked says whether htm and htu were compared with
	// --method and --url.
	RequestChecked bool `json:"request_checked"`
}

// checkProof checks a proof with a token bound to jkt, as serve would
// but without using it up.
func checkProof(pc proofCheck, token, jkt string) proofJSON {
	p, err := dpop.Parse(strings.TrimSpace(pc.proof))
	if err == nil {
		method, u := pc.method, pc.url
		if method == "" {
			method = p.HTM
		}
		if u == "" {
			u = p.HTU
		}
		_, err = dpop.NewVerifier(dpop.Config{}).Verify(dpop.Request{Proofs: []string{strings.TrimSpace(pc.proof)},
			Method: strings.ToUpper(method), URL: u, AccessToken: token, BoundTo: jkt, NoReplayCheck: true})
	}
	out := proofJSON{OK: err == nil, RequestChecked: pc.method != "" && pc.url != ""}
	if p != nil {
		out.Alg, out.Thumbprint, out.HTM, out.HTU, out.IssuedAt = p.Alg, p.Thumbprint, p.HTM, p.HTU, jsonTime(p.IssuedAt)
	}
	var de *dpop.Error
	if errors.As(err, &de) {
		out.Reason, out.Message = string(de.Reason), de.Message
	} else if err != nil {
		out.Reason, out.Message = "malformed", err.Error()
	}
	return out
}

// inspectWithProof prints the inspection and the proof's check; the exit
// code is the token's, or 3 when the proof is refused.
func (a *app) inspectWithProof(results []*validate.Result, one bool, token string, pc proofCheck) error {
	jkt := ""
	for _, r := range results {
		if r.JKT != "" {
			jkt = r.JKT
			break
		}
	}
	check := checkProof(pc, token, jkt)
	if a.output == "json" {
		var tok any = results
		if one {
			tok = results[0]
		}
		if err := writeJSON(a.stdout, struct {
			Token     any       `json:"token"`
			DPoPProof proofJSON `json:"dpop_proof"`
		}{tok, check}); err != nil {
			return err
		}
	} else {
		if err := a.printInspection(results, one); err != nil {
			return err
		}
		w := a.stdout
		fmt.Fprintln(w, "\nDPoP proof:")
		kv := newTable(w)
		kv.row("  key:", fmt.Sprintf("%s jkt %s", check.Alg, tui.Escape(check.Thumbprint)))
		against := "(not compared with a request: give --method and --url)"
		if check.RequestChecked {
			against = "(compared with --method and --url)"
		}
		kv.row("  request:", fmt.Sprintf("%s %s %s", tui.Escape(check.HTM), tui.Escape(check.HTU), against))
		if !check.IssuedAt.IsZero() {
			kv.row("  made:", check.IssuedAt.Format(time.RFC3339))
		}
		kv.flush()
		if check.OK {
			fmt.Fprintln(w, "Proof: ACCEPTED: the proof is signed by the key the token is bound to, for its hash, and fresh.")
		} else {
			fmt.Fprintf(w, "Proof: REFUSED (%s): %s\n", check.Reason, tui.EscapeText(check.Message))
		}
	}
	if err := inspectionExit(results); err != nil {
		return err
	}
	if !check.OK {
		return exitCodeError{exitRefused, silentError{}}
	}
	return nil
}
