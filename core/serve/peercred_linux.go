package serve

import (
	"net"
	"syscall"
)

// peerUID returns the user id of the process at the other end of a unix
// socket connection (SO_PEERCRED), as the kernel saw it at connect.
func peerUID(c net.Conn) (int, bool) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var (
		cred *syscall.Ucred
		gerr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || gerr != nil {
		return 0, false
	}
	return int(cred.Uid), true
}
