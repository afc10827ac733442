/*
 * stats.c: latency samples, CPU snapshots and process memory (see stats.h).
 *
 * For: measuring. Not for: deciding what a result means (bench.c prints the
 * figures; scripts/bench compares them with pgbench).
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LAT_INITIAL_CAP 65536u

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lat_add(lat_samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : LAT_INITIAL_CAP;
        uint32_t *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void lat_sort(lat_samples *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof s->v[0], cmp_u32);
}

double lat_quantile_us(const lat_samples *s, double q)
{
    if (s->n == 0)
        return 0.0;
    /* nearest rank: the smallest sample with at least q of all at or below */
    double rank = q * (double)s->n;
    size_t i = (size_t)rank;
    if ((double)i < rank)
        i++;
    if (i == 0)
        i = 1;
    if (i > s->n)
        i = s->n;
    return (double)s->v[i - 1] / 1000.0;
}

void lat_free(lat_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* user + system seconds of pid from /proc/PID/stat (fields 14 and 15, after
 * the parenthesised command name, which may hold spaces). */
double proc_cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1.0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1.0;
    unsigned long utime = 0, stime = 0;
    /* after ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt
     * cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &utime, &stime) != 2)
        return -1.0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void machine_cpu_s(double *busy, double *all)
{
    *busy = *all = 0.0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return;
    unsigned long long v[8] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (got < 5)
        return;
    unsigned long long sum = 0;
    for (int i = 0; i < 8; i++)
        sum += v[i];
    double tck = (double)sysconf(_SC_CLK_TCK);
    *all = (double)sum / tck;
    *busy = (double)(sum - v[3] - v[4]) / tck;  /* minus idle and iowait */
}

void cpu_take(cpu_snap *out, int pid)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    out->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    out->proc_s = pid > 0 ? proc_cpu_s(pid) : -1.0;
    machine_cpu_s(&out->machine_busy_s, &out->machine_all_s);
}

int proc_mem_kib(int pid, long *rss_kib, long *hwm_kib)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int found = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld", rss_kib) == 1)
            found |= 1;
        else if (sscanf(line, "VmHWM: %ld", hwm_kib) == 1)
            found |= 2;
    }
    fclose(f);
    return found == 3 ? 0 : -1;
}

int proc_reset_hwm(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", pid);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fputs("5", f) >= 0;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}
