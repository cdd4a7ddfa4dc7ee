/* results-lock.c — the whole-run claim on a results file (see results-lock.h).
 * fcntl (not flock) locks, because F_GETLK names the holder's pid. They belong to the process:
 * forked workers do not inherit them, and only this file opens "<file>.lock", so no other
 * close() in the process can drop the lock by accident. */
#include "results-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct tlb_results_lock {
    int fd;
    char *lock_path;
};

static int set_lock(int fd, short type, int cmd, struct flock *fl) {
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    return fcntl(fd, cmd, fl);
}

int tlb_results_lock(const char *path, struct tlb_results_lock **out) {
    *out = NULL;
    size_t n = strlen(path) + sizeof ".lock";
    char *lock_path = tlb_malloc(n, "lock file name");
    if (!lock_path) return -1;
    snprintf(lock_path, n, "%s.lock", path);
    /* A holder removes the lock file when it ends: if we locked a file that was removed (or
     * replaced) meanwhile, our lock guards nothing; try again on the file now there. */
    for (int attempt = 0;; attempt++) {
        if (attempt == 100) {
            tlb_error("%s: cannot lock %s: it keeps being removed and recreated", path,
                      lock_path);
            break;
        }
        int fd = open(lock_path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            tlb_error("%s: cannot create the lock file %s: %s", path, lock_path,
                      strerror(errno));
            break;
        }
        struct stat st, now;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            tlb_error("%s: the lock file %s is not a regular file", path, lock_path);
            close(fd);
            break;
        }
        struct flock fl;
        if (set_lock(fd, F_WRLCK, F_SETLK, &fl) != 0) {
            int err = errno;
            if (err == EACCES || err == EAGAIN) {
                long pid = set_lock(fd, F_WRLCK, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK
                               ? (long)fl.l_pid : 0;
                if (pid == 0) { /* released meanwhile: try again */
                    close(fd);
                    continue;
                }
                tlb_error("%s is being written by another tlbench (pid %ld); wait for it to "
                          "end, or write to another file with -o", path, pid);
            } else {
                tlb_error("%s: cannot lock %s: %s", path, lock_path, strerror(err));
            }
            close(fd);
            break;
        }
        if (stat(lock_path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
            close(fd);
            continue;
        }
        /* For people looking: who holds it (the lock itself is what counts). */
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || tlb_write_full(fd, pid, (size_t)len) != 0) {
            /* harmless: the lock holds without the note */
        }
        struct tlb_results_lock *l = tlb_calloc(1, sizeof *l, "results lock");
        if (!l) {
            unlink(lock_path);
            close(fd);
            break;
        }
        l->fd = fd;
        l->lock_path = lock_path;
        *out = l;
        return 0;
    }
    free(lock_path);
    return -1;
}

void tlb_results_unlock(struct tlb_results_lock *l) {
    if (!l) return;
    unlink(l->lock_path); /* while still holding it: see the retry in tlb_results_lock */
    close(l->fd);
    free(l->lock_path);
    free(l);
}
