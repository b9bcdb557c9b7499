package debuglog_test

import (
	"fmt"
	"strings"
	"testing"

	"oidcctl/core/serve/debuglog"
)

// bodies of about the default debug max body (16 KiB).
func benchBodies() map[string]string {
	var js, xml, text strings.Builder
	js.WriteString(`{"items":[`)
	xml.WriteString(`<soap:Envelope><soap:Body><Items>`)
	for i := 0; js.Len() < 16<<10; i++ {
		fmt.Fprintf(&js, `{"id":%d,"title":"ticket %d","password":"pw-%d","note":"{\"token\":\"t-%d\"}"},`, i, i, i, i)
		fmt.Fprintf(&xml, `<Item><ID>%d</ID><Title>ticket %d</Title><tic:Password>pw-%d</tic:Password></Item>`, i, i, i)
		fmt.Fprintf(&text, "line %d: user=agent%d password=pw-%d and some more words\n", i, i, i)
	}
	js.WriteString(`{}]}`)
	xml.WriteString(`</Items></soap:Body></soap:Envelope>`)
	return map[string]string{"application/json": js.String(), "text/xml": xml.String(), "text/plain": text.String()}
}

func BenchmarkRedactBody(b *testing.B) {
	for ct, body := range benchBodies() {
		b.Run(ct, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				debuglog.RedactBody(ct, []byte(body), true)
			}
		})
	}
}

// Secrets (one pass of a strings.Replacer) against the baseline of one
// strings.ReplaceAll per secret, for 300 tokens (100 accounts) over a
// 16 KiB body.

// Secrets (one pass of a strings.Replacer) against the baseline of one
// strings.ReplaceAll per secret, for 300 tokens (100 accounts) over a
// 16 KiB body.
func BenchmarkSecrets(b *testing.B) {
	var values []string
	for i := range 300 {
		values = append(values, fmt.Sprintf("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.opaque-token-%04d-0123456789abcdef", i))
	}
	body := strings.Repeat("some text of an answer, and a token: "+values[150]+"\n", 16<<10/100)
	s := debuglog.NewSecrets(values...)
	b.Run("replacer", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			s.Redact(body)
		}
	})
	b.Run("baseline-replace-each", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			out := body
			for _, v := range values {
				out = strings.ReplaceAll(out, v, debuglog.Redacted)
			}
		}
	})
}
