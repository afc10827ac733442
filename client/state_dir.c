/*
 * state_dir.c: the CLI's private state folder (state_dir.h): where it is,
 * making it, and the checks that keep it private. Not for: the files kept
 * in it, or the messages about it (the callers').
 */
#include "state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cli_state_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/baobao", xdg);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(out, cap, "%s/.local/state/baobao", home);
    else
        return false;
    return n > 0 && (size_t)n < cap;
}

/* Makes path and its missing parents, 0700. 0 or -1 (errno). */
static int make_dirs(const char *path)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

cli_state_dir_rc cli_state_dir_open(const char *dir, bool make, int *fd)
{
    *fd = -1;
    if (make && make_dirs(dir) != 0)
        return CLI_STATE_DIR_EMAKE;
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (d < 0)
        return CLI_STATE_DIR_EOPEN;
    struct stat st;
    if (fstat(d, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        close(d);
        return CLI_STATE_DIR_NOT_PRIVATE;
    }
    *fd = d;
    return CLI_STATE_DIR_OK;
}
