/*
 * stats.h: what the benchmark measures besides counting: latency samples
 * and their percentiles, CPU time (this process, another process, the whole
 * machine) and a process's memory from /proc.
 *
 * For: bench.c, idle.c and floor.c. Not for: sockets or the protocol (conn.h,
 * workload.h). Linux only (/proc).
 *
 * Latencies are kept as a plain array of every sample (nanoseconds, 4
 * bytes each: a 10 s run at 100,000 requests/s is 4 MB) and sorted once at
 * the end, so p50/p99/p99.9 are exact, not bucket estimates.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in nanoseconds. */
uint64_t mono_ns(void);

/* A growable array of latency samples (ns, saturated at UINT32_MAX ns =
 * 4.3 s, far above anything the run tolerates). Owns its memory. */
typedef struct lat_samples {
    uint32_t *v;
    size_t n, cap;
} lat_samples;

/* Appends one sample. Returns 0, or -1 when out of memory. */
__attribute__((warn_unused_result))
int lat_add(lat_samples *s, uint64_t ns);
/* Sorts the samples (after the run). */
void lat_sort(lat_samples *s);
/* The q-quantile (0 < q <= 1) in microseconds of sorted samples, by the
 * nearest-rank method; 0 when there are none. */
double lat_quantile_us(const lat_samples *s, double q);
void lat_free(lat_samples *s);

/* CPU time consumed so far, in seconds. */
typedef struct cpu_snap {
    double self_s;       /* this process (user + system) */
    double proc_s;       /* the watched process (user + system); -1 if unknown */
    double machine_busy_s;  /* all CPUs, not idle and not iowait */
    double machine_all_s;   /* all CPUs, everything */
} cpu_snap;

/* user + system seconds of pid (/proc/PID/stat); -1 when unreadable. */
double proc_cpu_s(int pid);

/* Takes a snapshot; pid <= 0 means no watched process (proc_s = -1). */
void cpu_take(cpu_snap *out, int pid);

/* VmRSS and VmHWM of pid in KiB, from /proc/PID/status. Returns 0, or -1
 * when the file cannot be read or lacks them. */
__attribute__((warn_unused_result))
int proc_mem_kib(int pid, long *rss_kib, long *hwm_kib);

/* Resets pid's VmHWM to its current VmRSS (writes 5 to
 * /proc/PID/clear_refs; needs the right to ptrace it). Returns 0 or -1. */
__attribute__((warn_unused_result))
int proc_reset_hwm(int pid);

#endif
