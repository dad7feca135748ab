/*
 * fsutil.c — file-system helpers (see fsutil.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

int fs_write_all(int fd, const void *p, size_t len, size_t *done)
{
    size_t local = 0;
    if (done == NULL)
        done = &local;
    while (*done < len) {
        ssize_t n = write(fd, (const char *)p + *done, len - *done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        *done += (size_t)n;
    }
    return 0;
}

int fs_mkdirs(const char *dir, struct err *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return err_set(err, ERR_IO, "directory name \"%.100s\" is empty or too long", dir);
    }
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                err_set(err, ERR_IO, "could not create directory \"%s\": %s", buf, strerror(e));
                errno = e;
                return ERR_IO;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int fs_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
