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

// ---- Linux items for MeshSystem ------------------------------------------
// Swift's Glibc module has no epoll/eventfd, and glibc declares its GNU
// extensions (accept4, pipe2, sched_getaffinity, ...) only under _GNU_SOURCE,
// which that module is built without. The few needed are reached here through
// syscall(2), which Swift cannot call itself (it is variadic).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <spawn.h>
#include <fcntl.h>

/// accept4(2): accept with SOCK_NONBLOCK/SOCK_CLOEXEC set atomically.
static inline int meshlab_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return (int)syscall(SYS_accept4, fd, address, length, flags);
}

/// pipe2(2): a pipe with O_CLOEXEC/O_NONBLOCK set atomically.
static inline int meshlab_pipe2(int fds[2], int flags) {
    return (int)syscall(SYS_pipe2, fds, flags);
}

/// The number of CPUs the calling thread may run on (sched_getaffinity(2)), 0 if unknown.
static inline int meshlab_cpu_count(void) {
    unsigned long mask[64];
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (bytes <= 0) return 0;
    int count = 0;
    for (long i = 0; i < bytes / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count;
}

/// prctl(PR_SET_NAME): names the calling thread (15 bytes shown by ps -T, top -H).
static inline int meshlab_set_thread_name(const char *name) {
    return (int)syscall(SYS_prctl, PR_SET_NAME, name, 0, 0, 0);
}

/// posix_spawn's POSIX_SPAWN_SETSID (glibc 2.26+): the child calls setsid().
#define MESHLAB_POSIX_SPAWN_SETSID 0x80

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child changes directory before exec.
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
static inline int meshlab_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor >= `from`.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int meshlab_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

/// pidfd_open(2) (Linux 5.3+): a descriptor for a process, readable once it exits.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
static inline int meshlab_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

/// The process environment (`environ`), which Swift 6 will not read as a global.
extern char **environ;
static inline char *const *meshlab_environ(void) {
    return environ;
}

// ---- Namespaces, mounts and netlink for MeshSystem ------------------------
#define MESHLAB_CLONE_NEWUTS 0x04000000

/// struct sockaddr_nl from <linux/netlink.h>: a netlink socket's address.
struct meshlab_sockaddr_nl {
    sa_family_t nl_family;
    unsigned short nl_pad;
    unsigned int nl_pid;
    unsigned int nl_groups;
};
#define MESHLAB_NETLINK_ROUTE 0
/// SOL_NETLINK options: ask for extended ACKs (an error message string) and strict checking.
#define MESHLAB_SOL_NETLINK 270
#define MESHLAB_NETLINK_EXT_ACK 11

#endif
