/*
 * lockfile.c — exclusive per-instance lock files (see lockfile.h).
 *
 * flock(2) rather than a pid check: the lock dies with its holder, whatever the way it dies, so
 * a kill -9 never leaves a lock that an operator must remove by hand. The pid written into the
 * file is only for the message naming who holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fsutil.h"
#include "lockfile.h"

int lockfile_acquire(const char *path, struct err *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int rc = fs_mkdirs(dir, err);
        if (rc)
            return rc;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, ERR_IO, "could not open lock file \"%s\": %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof(pid) - 1, 0);
        if (r > 0) {
            pid[r] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        close(fd);
        if (e == EWOULDBLOCK)
            return err_set(err, ERR_POS_LOCKED,
                           "\"%s\" is locked by process %s: stop that sluice first", path,
                           pid[0] ? pid : "(unknown)");
        return err_set(err, ERR_IO, "could not lock \"%s\": %s", path, strerror(e));
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_IO, "could not write lock file \"%s\": %s", path, strerror(e));
    }
    return fd;
}

void lockfile_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
