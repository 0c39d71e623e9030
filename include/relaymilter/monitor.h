/*
 * monitor.h - where the metrics (metrics.h) are read: a Prometheus
 * endpoint over plain HTTP ("metrics" setting, off by default) and a unix
 * control socket that "relaymilter stats" reads ("control_socket").
 *
 * Both are served by one thread, one connection at a time, each bounded
 * by a request size limit and a deadline, so a slow or hostile client
 * holds it at most RM_MONITOR_TIMEOUT_MS.  The sockets are opened before
 * the daemon detaches (a bad address or a busy port fails the start) and
 * the thread ends at once when told to stop (a wake-up pipe).
 */
#ifndef RM_MONITOR_H
#define RM_MONITOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/stat.h>

#include "relaymilter/confdata.h"
#include "relaymilter/runtime.h"

/* the build may set it; the systemd unit's RuntimeDirectory */
#ifndef RM_CONTROL_DEFAULT
#define RM_CONTROL_DEFAULT "/run/relaymilter/control"
#endif
#define RM_MONITOR_TIMEOUT_MS  2000 /* per request, per response */
#define RM_HTTP_MAX_REQUEST    8192
#define RM_CONTROL_MAX_REQUEST 1024

struct rm_monitor {
	int mo_http;       /* the metrics listener, or -1 */
	int mo_ctl;        /* the control socket, or -1 */
	int mo_wake[2];    /* written to stop the thread */
	char *mo_ctl_path; /* the control socket we made, or NULL */
	gid_t mo_ctl_gid;  /* control_socket_group, or (gid_t)-1: none */
	struct stat mo_ctl_st;
	bool mo_running;
	pthread_t mo_thread;
	struct rm_runtime *mo_rt;
};

void rm_monitor_init(struct rm_monitor *);

/*
 * rm_monitor_open - bind the metrics endpoint (when set) and the control
 * socket (control_socket; the default path only when its directory
 * exists and no other process listens there).  0, or -1 with the reason
 * in err.
 */
int rm_monitor_open(struct rm_monitor *, const struct rm_settings *, char *err,
                    size_t errlen);

/* rm_monitor_start - the serving thread, when a socket is open; 0 or -1. */
int rm_monitor_start(struct rm_monitor *, struct rm_runtime *);

/* rm_monitor_stop - end the thread (if any) and wait for it. */
void rm_monitor_stop(struct rm_monitor *);

/* rm_monitor_close - close the sockets and remove the control socket. */
void rm_monitor_close(struct rm_monitor *);

/* rm_control_path - the control socket of the settings (maybe NULL). */
const char *rm_control_path(const struct rm_settings *);

/* rm_unix_in_use - does a process listen on the unix socket path? */
bool rm_unix_in_use(const char *path);

/*
 * rm_control_ask - send req (one line, or NULL: none) to the control
 * socket at path and read the whole answer into mb; 0, or -1 with errno.
 */
struct rm_mxbuf;
int rm_control_ask(const char *path, const char *req, struct rm_mxbuf *mb);
/*
 * rm_control_opts - a control subcommand's command line: -c CONFIG into
 * *config, --help (usage on stdout), and --NAMES[i] VALUE into vals[i]
 * (at most RM_CONTROL_OPTS names).  -1 to go on (the operands from
 * optind), or an exit status (0 after --help, usage after a bad option).
 */
#define RM_CONTROL_OPTS 4
int rm_control_opts(int argc, char **argv, const char *const *names, size_t n,
                    const char **vals, const char **config,
                    void (*usage)(FILE *));
/*
 * rm_control_print - rm_control_call() with the answer on stdout; an exit
 * status: 1 when the answer is an error or fail (NULL: none).
 */
int rm_control_print(const char *who, const char *config, const char *req,
                     const char *fail);
/*
 * rm_control_call - what a subcommand does: read config, send req to its
 * daemon's control socket, the answer into mb (freed by the caller).  0,
 * or an exit status after saying why on stderr ("relaymilter WHO: ...");
 * an empty answer is an error when empty_ok is false.
 */
int rm_control_call(const char *who, const char *config, const char *req,
                    bool empty_ok, struct rm_mxbuf *mb);

/* rm_stats_main - "relaymilter stats [-c CONFIG]"; an exit status. */
int rm_stats_main(int argc, char **argv);

#endif
