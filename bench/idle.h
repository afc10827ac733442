/*
 * idle.h: the idle-connections test: open many connections to baobaod,
 * make each carry one server.info (so the server has really accepted it and
 * set it up), leave them idle, and read the server's memory from /proc
 * before and after.
 *
 * For: the "10,000 idle connections in under 100 MiB" figure.
 * Not for: throughput (bench.c). The server must run on this machine (its
 * pid is needed), with max_connections at least `conns` and a file limit
 * above it.
 */
#ifndef BENCH_IDLE_H
#define BENCH_IDLE_H

struct sockaddr_storage;

/* Runs the test and prints its figures (and a RESULT line). Returns 0 when
 * every connection was opened and answered, 1 when not, 2 on a setup
 * failure (file limit, /proc unreadable). hold_s: seconds to keep the
 * connections open after measuring. */
int idle_run(const struct sockaddr_storage *addr, unsigned addrlen, int conns, int server_pid,
             double hold_s);

#endif
