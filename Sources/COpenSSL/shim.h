// C declarations meshlab needs that Swift's Glibc module does not give it:
// OpenSSL (libssl-dev) and a few Linux-only items. Everything of our own is
// prefixed `meshlab_`. No <linux/*> headers: they clash with glibc's.
#ifndef MESHLAB_SHIM_H
#define MESHLAB_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <netinet/in.h>

// Namespace flags from <linux/sched.h>, which glibc only exposes under _GNU_SOURCE.
#define MESHLAB_CLONE_NEWNS  0x00020000
#define MESHLAB_CLONE_NEWNET 0x40000000

// netfilter's getsockopt(SOL_IP, SO_ORIGINAL_DST) from <linux/netfilter_ipv4.h>:
// the destination a connection had before an iptables REDIRECT rewrote it.
#define MESHLAB_SO_ORIGINAL_DST 80
#define MESHLAB_IP6T_SO_ORIGINAL_DST 80

/// setns(2): moves the calling *thread* into the namespace `fd` refers to.
static inline int meshlab_setns(int fd, int nstype) {
    return (int)syscall(SYS_setns, fd, nstype);
}

/// unshare(2): gives the calling thread new namespaces of the kinds in `flags`.
static inline int meshlab_unshare(int flags) {
    return (int)syscall(SYS_unshare, flags);
}

#endif
