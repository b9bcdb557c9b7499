package jws

import (
	"math"
	"time"
)

// NumericDate reads an exp, nbf or iat claim (RFC 7519 §2: seconds since
// the epoch, maybe with a fraction). ok is false when the claim is
// absent; bad is true when it is there but not a number in range.
func NumericDate(claims map[string]any, name string) (t time.Time, ok, bad bool) {
	v, there := claims[name]
	if !there {
		return time.Time{}, false, false
	}
	f, isNum := v.(float64)
	return numericDate(f, isNum)
}

// RawNumericDate is NumericDate on the members ParseRaw kept.
func RawNumericDate(claims Members, name string) (t time.Time, ok, bad bool) {
	v, there := claims.Get(name)
	if !there {
		return time.Time{}, false, false
	}
	f, isNum := Number(v)
	return numericDate(f, isNum)
}

func numericDate(f float64, isNum bool) (t time.Time, ok, bad bool) {
	if !isNum || f < 0 || f > 1e12 {
		return time.Time{}, false, true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, false
}
