/*
 * export_files.c: the files of an export run on disk (export_files.h):
 * the run's folder, each file written to NAME.partial, fsync'd, renamed
 * and the folder fsync'd; the CSV files streamed from COPY (memory does not
 * grow with rows) and hashed as they are written; the manifest last; the
 * clean-up of unfinished runs' folders and the pruning of old ones.
 *
 * Blocking throughout: called on the export's own thread only.
 *
 * Not for: what goes into the files (export_worker.c has the COPY
 * statements, report.c the reports), the export_run rows, the schedule.
 */
#include "export_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* Bytes gathered before one write(2) of a CSV file. */
#define EXPORT_WRITE_BUF 65536
/* Runs on one date: <date>, <date>-2 ... <date>-EXPORT_MAX_SAME_DAY. */
#define EXPORT_MAX_SAME_DAY 999

void exp_errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

const char *exp_strerror(int e, char *buf, size_t len)
{
    return strerror_r(e, buf, len);
}

uint64_t exp_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool cancelled(const exp_folder *f)
{
    return f->cancelled != NULL && f->cancelled() != 0;
}

/* One output file being written: buffered, hashed as it goes. */
typedef struct wfile {
    int fd;
    EVP_MD_CTX *sha;
    uint64_t bytes;
    size_t len;
    char buf[EXPORT_WRITE_BUF];
} wfile;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int wf_flush(wfile *f)
{
    if (f->len == 0)
        return 0;
    if (write_all(f->fd, f->buf, f->len) != 0)
        return -1;
    f->len = 0;
    return 0;
}

static int wf_put(wfile *f, const char *p, size_t n)
{
    if (EVP_DigestUpdate(f->sha, p, n) != 1)
        return -1;
    f->bytes += n;
    if (f->len + n > sizeof f->buf) {
        if (wf_flush(f) != 0)
            return -1;
        if (n > sizeof f->buf)
            return write_all(f->fd, p, n);
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

static void hex_digest(EVP_MD_CTX *sha, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen != 32)
        return;
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int fsync_dir(int dirfd)
{
    return fsync(dirfd) == 0 || errno == EINVAL ? 0 : -1;
}

/* NAME.partial -> NAME: fsync'd before, the folder fsync'd after. */
static int commit_file(exp_folder *x, int fd, const char *name)
{
    char partial[EXPORT_NAME_MAX + 16];
    snprintf(partial, sizeof partial, "%s" EXPORT_PARTIAL, name);
    if (fsync(fd) != 0) {
        exp_errf(x->err, sizeof x->err, "%s: fsync: %s", name, ERRSTR(errno));
        return -1;
    }
    if (renameat(x->dirfd, partial, x->dirfd, name) != 0) {
        exp_errf(x->err, sizeof x->err, "%s: rename: %s", name, ERRSTR(errno));
        return -1;
    }
    if (fsync_dir(x->dirfd) != 0) {
        /* The rename may not be durable, and the run fails: the name must
         * not stay (a manifest.json would make the folder look complete). */
        exp_errf(x->err, sizeof x->err, "%s: fsync of the folder: %s", name, ERRSTR(errno));
        (void)unlinkat(x->dirfd, name, 0);
        return -1;
    }
    return 0;
}

static int open_partial(exp_folder *x, const char *name)
{
    char partial[EXPORT_NAME_MAX + 16];
    snprintf(partial, sizeof partial, "%s" EXPORT_PARTIAL, name);
    int fd = openat(x->dirfd, partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        exp_errf(x->err, sizeof x->err, "%s: %s", partial, ERRSTR(errno));
    return fd;
}

/* Stops a COPY OUT still streaming (cancel, write error): asks the server
 * to cancel, then reads what is left until the COPY ends. */
static void abort_copy(PGconn *conn)
{
    PGcancel *c = PQgetCancel(conn);
    if (c != NULL) {
        char eb[256];
        (void)PQcancel(c, eb, sizeof eb);
        PQfreeCancel(c);
    }
    char *row;
    int n;
    while ((n = PQgetCopyData(conn, &row, 0)) > 0)
        PQfreemem(row);
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL)
        PQclear(r);
}

/* One CSV: BOM, then COPY's rows, each record ending CRLF (a line feed
 * inside a quoted cell stays as it is, so cells round-trip). */
int expf_csv(exp_folder *x, PGconn *conn, const char *name, const char *sql)
{
    static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
    wfile *f = malloc(sizeof *f);
    if (f == NULL) {
        exp_errf(x->err, sizeof x->err, "out of memory");
        return -1;
    }
    f->len = 0;
    f->bytes = 0;
    f->sha = EVP_MD_CTX_new();
    f->fd = -1;
    int rc = -1;
    bool copying = false;
    int64_t records = 0;
    uint64_t t0 = exp_mono_ms();
    if (f->sha == NULL || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
        exp_errf(x->err, sizeof x->err, "sha256 unavailable");
        goto out;
    }
    if ((f->fd = open_partial(x, name)) < 0)
        goto out;
    if (wf_put(f, bom, sizeof bom) != 0)
        goto write_failed;
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        exp_errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(conn));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    copying = true;
    for (;;) {
        char *row;
        int n = PQgetCopyData(conn, &row, 0);
        if (n == -1)
            break;
        if (n < 0) {
            exp_errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(conn));
            copying = false;
            goto out;
        }
        int w;
        if (n > 0 && row[n - 1] == '\n')
            w = wf_put(f, row, (size_t)n - 1) == 0 && wf_put(f, "\r\n", 2) == 0 ? 0 : -1;
        else
            w = wf_put(f, row, (size_t)n);
        PQfreemem(row);
        if (w != 0)
            goto write_failed;
        records++;
        if (cancelled(x)) {
            exp_errf(x->err, sizeof x->err, "the server is shutting down");
            goto out;
        }
    }
    copying = false;
    r = PQgetResult(conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        exp_errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(conn));
    PQclear(r);
    while ((r = PQgetResult(conn)) != NULL)
        PQclear(r);
    if (!ok)
        goto out;
    if (wf_flush(f) != 0)
        goto write_failed;
    if (commit_file(x, f->fd, name) != 0)
        goto out;
    exp_file *ef = &x->files[x->nfiles++];
    snprintf(ef->name, sizeof ef->name, "%s", name);
    ef->rows = records > 0 ? records - 1 : 0;   /* the header is no data row */
    ef->bytes = f->bytes;
    ef->ms = exp_mono_ms() - t0;
    hex_digest(f->sha, ef->sha256);
    rc = 0;
    goto out;
write_failed:
    exp_errf(x->err, sizeof x->err, "%s: write: %s", name, ERRSTR(errno));
out:
    if (copying)
        abort_copy(conn);
    if (f->fd >= 0)
        close(f->fd);
    EVP_MD_CTX_free(f->sha);
    free(f);
    return rc;
}

void expf_partial_path(const exp_folder *x, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s" EXPORT_PARTIAL, x->path, name);
}

/* A file written to NAME.partial by another writer (a report): hashed,
 * fsync'd, renamed. */
int expf_adopt(exp_folder *x, const char *name, int64_t rows, uint64_t t0)
{
    char path[EXPORT_PATH_MAX + EXPORT_NAME_MAX + 16];
    expf_partial_path(x, name, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        exp_errf(x->err, sizeof x->err, "%s: %s", name, ERRSTR(errno));
        return -1;
    }
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    char *buf = malloc(EXPORT_WRITE_BUF);
    uint64_t bytes = 0;
    int rc = -1;
    if (sha == NULL || buf == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
        exp_errf(x->err, sizeof x->err, "%s: out of memory", name);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, EXPORT_WRITE_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            exp_errf(x->err, sizeof x->err, "%s: read: %s", name, ERRSTR(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(sha, buf, (size_t)n) != 1)
            goto out;
        bytes += (uint64_t)n;
    }
    if (commit_file(x, fd, name) != 0)
        goto out;
    exp_file *ef = &x->files[x->nfiles++];
    snprintf(ef->name, sizeof ef->name, "%s", name);
    ef->rows = rows;
    ef->bytes = bytes;
    ef->ms = exp_mono_ms() - t0;
    hex_digest(sha, ef->sha256);
    rc = 0;
out:
    close(fd);
    free(buf);
    EVP_MD_CTX_free(sha);
    return rc;
}

/* The files array (manifest and export_run.files): names are ours (ASCII,
 * nothing to escape). */
char *expf_files_json(const exp_folder *x)
{
    size_t cap = 4 + (size_t)x->nfiles * (EXPORT_NAME_MAX + 200);
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < x->nfiles; i++) {
        const exp_file *f = &x->files[i];
        len += (size_t)snprintf(out + len, cap - len,
                                "%s\n    {\"name\": \"%s\", \"rows\": %" PRId64
                                ", \"bytes\": %" PRIu64 ", \"sha256\": \"%s\"}",
                                i ? "," : "", f->name, f->rows, f->bytes, f->sha256);
    }
    snprintf(out + len, cap - len, "\n  ]");
    return out;
}

int expf_write_manifest(exp_folder *x, const char *export_date, int64_t run_id,
                        const char *kind, const char *started_at, const char *finished_at,
                        const char *files, int64_t withdrawn)
{
    int fd = open_partial(x, EXPORT_MANIFEST);
    if (fd < 0)
        return -1;
    char *text = NULL;
    int n = asprintf(&text,
                     "{\n  \"export_date\": \"%s\",\n  \"run_id\": %" PRId64 ",\n"
                     "  \"kind\": \"%s\",\n  \"started_at\": \"%s\",\n"
                     "  \"finished_at\": \"%s\",\n  \"snapshot\": \"REPEATABLE READ\",\n"
                     "  \"withdrawn_status_reports\": %" PRId64 ",\n"
                     "  \"files\": %s\n}\n",
                     export_date, run_id, kind, started_at, finished_at, withdrawn,
                     files);
    int rc = -1;
    if (n < 0) {
        exp_errf(x->err, sizeof x->err, "out of memory");
    } else if (write_all(fd, text, (size_t)n) != 0) {
        exp_errf(x->err, sizeof x->err, EXPORT_MANIFEST ": write: %s", ERRSTR(errno));
    } else {
        rc = commit_file(x, fd, EXPORT_MANIFEST);
    }
    free(n < 0 ? NULL : text);
    close(fd);
    return rc;
}

/* ---- folders ------------------------------------------------------------ */

bool expf_is_run_folder_name(const char *n)
{
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
            return false;
    }
    if (n[10] == '\0')
        return true;
    if (n[10] != '-' || n[11] < '1' || n[11] > '9')
        return false;
    for (const char *p = n + 12; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return strlen(n) <= 14;
}

/* Removes a run folder inside export_dir: its regular files, then itself.
 * keep_complete: leave a folder that has a manifest (a finished run).
 * 1 removed, 0 left, -1 error. */
static int remove_run_folder(int topfd, const char *name, bool keep_complete)
{
    if (!expf_is_run_folder_name(name))
        return 0;
    int fd = openat(topfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (keep_complete && fstatat(fd, EXPORT_MANIFEST, &st, 0) == 0) {
        close(fd);
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            S_ISDIR(st.st_mode) || unlinkat(dirfd(d), e->d_name, 0) != 0)
            rc = -1;   /* not ours to remove: the folder stays */
    }
    closedir(d);
    if (rc == 0 && unlinkat(topfd, name, AT_REMOVEDIR) != 0)
        rc = -1;
    (void)fsync_dir(topfd);
    return rc == 0 ? 1 : -1;
}

/* export_dir, created when missing (parents too). Returns an O_DIRECTORY
 * descriptor or -1 with err set. */
int expf_open_top(const char *dir, char *err, size_t errlen)
{
    char path[EXPORT_PATH_MAX];
    snprintf(path, sizeof path, "%s", dir[0] ? dir : ".");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            exp_errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        exp_errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        exp_errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
    return fd;
}

/* Days since 1970-01-01 of "YYYY-MM-DD" (first 10 characters). */
static int64_t date_days(const char *d)
{
    struct tm tm = {0};
    if (sscanf(d, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return INT64_MIN;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) / 86400;
}

/* Run folders whose date is before today −
 * export_keep_days. Returns how many were removed. */
long expf_prune(int topfd, const char *own, unsigned keep_days)
{
    char today[11];
    if (clock_today(today) != 0)
        return 0;
    int64_t cutoff = date_days(today) - (int64_t)keep_days;
    int fd = dup(topfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    /* Names first, removal after: readdir while entries vanish may skip. */
    char (*names)[EXPORT_NAME_MAX] = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!expf_is_run_folder_name(e->d_name) || strcmp(e->d_name, own) == 0 ||
            date_days(e->d_name) >= cutoff)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            void *p = realloc(names, nc * sizeof *names);
            if (p == NULL)
                break;
            names = p;
            cap = nc;
        }
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);   /* at most 14 bytes */
    }
    closedir(d);
    long removed = 0;
    for (size_t i = 0; i < n; i++)
        if (remove_run_folder(topfd, names[i], false) == 1)
            removed++;
    free(names);
    return removed;
}

/* Removes NAME.partial files left in the run's folder. */
void expf_remove_partials(exp_folder *x)
{
    int dirfd = x->dirfd;
    if (dirfd < 0)
        return;
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    size_t pl = strlen(EXPORT_PARTIAL);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > pl && strcmp(e->d_name + l - pl, EXPORT_PARTIAL) == 0)
            (void)unlinkat(dirfd, e->d_name, 0);
    }
    closedir(d);
    (void)fsync_dir(dirfd);
}

int expf_remove_unfinished(int topfd, const char *name)
{
    return remove_run_folder(topfd, name, true);
}

int expf_create(exp_folder *x, int topfd, const char *export_dir, const char *date)
{
    x->dirfd = -1;
    x->name[0] = '\0';
    if (topfd < 0) {
        exp_errf(x->err, sizeof x->err, "export_dir %s cannot be opened", export_dir);
        return -1;
    }
    for (int n = 1; n <= EXPORT_MAX_SAME_DAY; n++) {
        if (n == 1)
            snprintf(x->name, sizeof x->name, "%s", date);
        else
            snprintf(x->name, sizeof x->name, "%s-%d", date, n);
        if (mkdirat(topfd, x->name, 0755) == 0)
            break;
        if (errno != EEXIST || n == EXPORT_MAX_SAME_DAY) {
            exp_errf(x->err, sizeof x->err, "%s/%s: %s", export_dir, x->name, ERRSTR(errno));
            x->name[0] = '\0';
            return -1;
        }
    }
    (void)fsync_dir(topfd);
    snprintf(x->path, sizeof x->path, "%s/%s", export_dir[0] ? export_dir : ".", x->name);
    x->dirfd = openat(topfd, x->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x->dirfd < 0) {
        exp_errf(x->err, sizeof x->err, "%s: %s", x->name, ERRSTR(errno));
        return -1;
    }
    return 0;
}
