/*
 * export_files.h: the files of an export run on disk: the run's folder
 * (<export_dir>/<date>[-N]), each file written as NAME.partial, fsync'd,
 * renamed and the folder fsync'd, the CSV files streamed from COPY, the
 * manifest written last, and the clean-up of folders (unfinished runs,
 * runs older than export_keep_days).
 *
 * Everything here blocks (file I/O, fsync, libpq COPY): the export's own
 * thread only (export_worker.c), never the loop. Only names that look
 * like run folders ("YYYY-MM-DD" or "YYYY-MM-DD-N") are ever removed.
 *
 * Not for: what goes into the files (the COPY statements are the
 * worker's, the reports are report.c's), the export_run rows, the
 * schedule.
 */
#ifndef BB_EXPORT_FILES_H
#define BB_EXPORT_FILES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPORT_ERR_MAX 512
#define EXPORT_PATH_MAX 4096
#define EXPORT_MAX_FILES 16
#define EXPORT_NAME_MAX 64
#define EXPORT_MANIFEST "manifest.json"
#define EXPORT_PARTIAL ".partial"

/* Formats an error text, cut to fit (a cut message is fine). */
void exp_errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* strerror is not thread-safe and the run has a thread of its own: the
 * GNU strerror_r, into a buffer living as long as the enclosing block
 * (ERRSTR's compound literal). */
#define EXPORT_ERRSTR_MAX 128
const char *exp_strerror(int e, char *buf, size_t len);
#define ERRSTR(e) exp_strerror((e), (char[EXPORT_ERRSTR_MAX]){0}, EXPORT_ERRSTR_MAX)

/* Milliseconds of the monotonic clock (how long a file took). */
uint64_t exp_mono_ms(void);

/* One finished file of a run, as the manifest lists it. */
typedef struct exp_file {
    char name[EXPORT_NAME_MAX];
    int64_t rows;
    uint64_t bytes;
    char sha256[65];
    uint64_t ms;                   /* how long it took (logged, not in the manifest) */
} exp_file;

/* A run's folder being filled. */
typedef struct exp_folder {
    int dirfd;                     /* -1 until created */
    char name[EXPORT_NAME_MAX];    /* "<date>" or "<date>-N" */
    char path[EXPORT_PATH_MAX];    /* export_dir/name */
    exp_file files[EXPORT_MAX_FILES];
    int nfiles;
    int (*cancelled)(void);        /* nonzero: stop (shutdown) */
    char err[EXPORT_ERR_MAX];      /* why the last call failed */
} exp_folder;

/* export_dir, created when missing (parents too). An O_DIRECTORY
 * descriptor, or -1 with err set. */
int expf_open_top(const char *dir, char *err, size_t errlen);
/* Creates the run's folder <date>, else <date>-2, -3 ... under topfd and
 * opens it. 0, or -1 (f->err; f->name is "" when no folder was made). */
int expf_create(exp_folder *f, int topfd, const char *export_dir, const char *date);
/* One CSV file from a COPY ... TO STDOUT: a UTF-8 BOM, then COPY's rows,
 * each record ending CRLF; committed and listed in f->files. 0 or -1. */
int expf_csv(exp_folder *f, PGconn *conn, const char *name, const char *copy_sql);
/* The path NAME.partial in the folder, for a writer of its own (reports). */
void expf_partial_path(const exp_folder *f, const char *name, char *out, size_t len);
/* A file another writer left at NAME.partial: hashed, committed and
 * listed with its rows; t0 = exp_mono_ms() when its writing began. */
int expf_adopt(exp_folder *f, const char *name, int64_t rows, uint64_t t0);
/* The files array (manifest and export_run.files), malloc'd JSON; NULL
 * when out of memory. */
char *expf_files_json(const exp_folder *f);
/* manifest.json, last, the same atomic way; withdrawn: the status reports
 * left out of the run because they were withdrawn. 0 or -1 (f->err). */
int expf_write_manifest(exp_folder *f, const char *export_date, int64_t run_id,
                        const char *kind, const char *started_at, const char *finished_at,
                        const char *files_json, int64_t withdrawn);
/* Removes NAME.partial files left in the folder (a failed run). */
void expf_remove_partials(exp_folder *f);
/* "YYYY-MM-DD" or "YYYY-MM-DD-N": the only names pruning and clean-up
 * ever remove, and the only folders export.read reads from
 * (export_read.c). Pure: safe on any thread. */
bool expf_is_run_folder_name(const char *n);
/* Removes a run folder that has no manifest (a failed run's leftovers).
 * 1 removed, 0 left, -1 error. */
int expf_remove_unfinished(int topfd, const char *name);
/* Removes run folders (other than own) dated before today −
 * keep_days. Returns how many were removed. */
long expf_prune(int topfd, const char *own, unsigned keep_days);

#endif
