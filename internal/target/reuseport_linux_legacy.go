//go:build linux && (386 || amd64 || arm)

package target

// soReusePort is the SO_REUSEPORT socket option. Package syscall was frozen
// before it gained the constant on these architectures; the kernel's value
// for them is 15.
const soReusePort = 0xf
