/*
 * scale.c - how the policy scales with the size of its lists.
 *
 *   scale gen FILE NDOMAINS
 *       write a config with NDOMAINS local domains, 100k trusted networks
 *       (IPv4 and IPv6) and 100k licensed senders
 *   scale engine TSV DIR SIZE...
 *       per size, in a fresh process: generate DIR/scale-SIZE.conf, load
 *       it with rm_conf_load() three times (seconds), VmRSS and VmHWM
 *       after the first load (kB), and ns per rm_policy_rcpt() call over
 *       a mix of pre-built facts, in batches; rows appended to TSV
 *   scale sessions SOCKET SECONDS TSV [LOG | PID LOG AT]
 *       milter sessions back to back on SOCKET for SECONDS, tailing the
 *       daemon's LOG; with PID, send it SIGUSR1 AT seconds in and
 *       again AT seconds after each "reloaded" line it logs,
 *       SCALE_RELOADS times; one row per session (start, latency) into
 *       TSV, one "reload SENT LOGGED" line per reload on stdout
 *   scale probe SOCKET
 *       how soon a change reaches decisions: per line "T0 ADDRESS
 *       accept|refuse" on stdin, milter sessions with RCPT ADDRESS until
 *       the reply is the one wanted; "MS TRIES" per line on stdout
 *   scale burn SECONDS MB
 *       the control for a reload: at SCHED_IDLE, for SECONDS, map MB of
 *       fresh memory, write it, unmap it, over and over (what a rebuild
 *       does to memory, and nothing of relaymilter), to tell the
 *       machine's own cost of background work from the daemon's
 *
 * Environment: SCALE_CALLS (calls per batch, default 2000000),
 * SCALE_BATCHES (default 7), SCALE_CPU (CPU to pin to; default the
 * current one), SCALE_CLIENTS (session threads, default 2),
 * SCALE_RELOADS (reloads in a session run, default 3, at most 16).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_kb.h"
#include "relaymilter/conf.h"
#include "relaymilter/policy.h"

#define NNETS    100000u
#define NSENDERS 100000u
#define NFACTS   4096u /* pre-built facts per kind */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long
env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : dflt;
}

/* xorshift: the same pseudo-random picks on every run */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * The generated names.  Even domains are exact ("d6.example"), odd ones
 * subtrees (".d7.example"); networks cycle through IPv4 /24, IPv4 /32,
 * IPv6 /48 and IPv6 /64; senders alternate domains and addresses.
 */
static void
net_text(char *b, size_t n, unsigned i)
{
	unsigned k = i / 4;

	switch (i % 4) {
	case 0:
		snprintf(b, n, "10.%u.%u.0/24", k >> 8 & 255, k & 255);
		break;
	case 1:
		snprintf(b, n, "172.%u.%u.%u", 16 + (k >> 16 & 15),
		         k >> 8 & 255, k & 255);
		break;
	case 2:
		snprintf(b, n, "2001:db8:%x::/48", k);
		break;
	default:
		snprintf(b, n, "2001:db9:%x:%x::/64", k >> 8, k & 255);
		break;
	}
}

/* an address inside network i */
static void
net_host(char *b, size_t n, unsigned i)
{
	unsigned k = i / 4;

	switch (i % 4) {
	case 0:
		snprintf(b, n, "10.%u.%u.%u", k >> 8 & 255, k & 255,
		         1 + k % 250);
		break;
	case 1:
		net_text(b, n, i);
		break;
	case 2:
		snprintf(b, n, "2001:db8:%x:1::25", k);
		break;
	default:
		snprintf(b, n, "2001:db9:%x:%x::%x", k >> 8, k & 255,
		         1 + k % 4000);
		break;
	}
}

static void
sender_text(char *b, size_t n, unsigned i)
{
	if (i % 2 == 0)
		snprintf(b, n, "s%u.example", i);
	else
		snprintf(b, n, "u%u@s%u.example", i, i);
}

static int
gen(const char *path, unsigned ndom)
{
	char b[128];
	unsigned i;
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	fprintf(fp, "log_level = \"info\";\nhostnames = [ "
	            "\"mx.scale.test\" ];\nlocal_domains = [\n");
	for (i = 0; i < ndom; i++)
		fprintf(fp, "  \"%sd%u.example\"%s\n", i % 2 ? "." : "", i,
		        i + 1 < ndom ? "," : "");
	fprintf(fp, "];\ntrusted_networks = [\n");
	for (i = 0; i < NNETS; i++) {
		net_text(b, sizeof(b), i);
		fprintf(fp, "  \"%s\"%s\n", b, i + 1 < NNETS ? "," : "");
	}
	fprintf(fp, "];\nlicensed_senders = [\n");
	for (i = 0; i < NSENDERS; i++) {
		sender_text(b, sizeof(b), i);
		fprintf(fp, "  \"%s\"%s\n", b, i + 1 < NSENDERS ? "," : "");
	}
	fprintf(fp, "];\n");
	if (fclose(fp) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

/* ---- the engine ------------------------------------------------------ */

enum kind {
	K_LOCAL,      /* exact local domain, untrusted client */
	K_SUBDOMAIN,  /* below a subtree pattern, untrusted client */
	K_REMOTE,     /* remote recipient, untrusted client: relay denied */
	K_TRUST4,     /* trusted IPv4 client, licensed sender domain */
	K_TRUST6,     /* trusted IPv6 client, licensed sender address */
	K_UNLICENSED, /* trusted client, sender not licensed */
	K__COUNT
};
static const char *const kind_names[K__COUNT] = {"local",       "subdomain",
                                                 "remote_miss", "trusted_v4",
                                                 "trusted_v6",  "unlicensed"};
static const char *const kind_rules[K__COUNT] = {
    "local_domains",    "local_domains",    "relay_denied",
    "trusted_networks", "trusted_networks", "unlicensed_sender"};

struct fact {
	struct rm_facts f;
	struct rm_ip ip;
	char helo[64], sender[80], rcpt[80];
};

static void
make_fact(struct fact *x, enum kind k, unsigned ndom, uint32_t *seed)
{
	char host[64];
	unsigned d = ndom ? rnd(seed) % ndom : 0, n = rnd(seed) % NNETS;
	unsigned s = rnd(seed) % NSENDERS;

	memset(x, 0, sizeof(*x));
	snprintf(host, sizeof(host), "203.0.113.%u", 1 + rnd(seed) % 250);
	snprintf(x->helo, sizeof(x->helo), "mail%u.client.test", d);
	snprintf(x->sender, sizeof(x->sender), "<someone@sender%u.test>", s);
	switch (k) {
	case K_LOCAL:
		d &= ~1u;
		snprintf(x->rcpt, sizeof(x->rcpt), "<user%u@d%u.example>", s,
		         d);
		break;
	case K_SUBDOMAIN:
		d |= 1u;
		if (d >= ndom)
			d = 1;
		snprintf(x->rcpt, sizeof(x->rcpt), "<user%u@mail.d%u.example>",
		         s, d);
		break;
	case K_REMOTE:
		snprintf(x->rcpt, sizeof(x->rcpt), "<user%u@r%u.remote.test>",
		         s, d);
		break;
	case K_TRUST4:
	case K_TRUST6:
	case K_UNLICENSED:
		n = (n & ~3u) | (k == K_TRUST6 ? 2 + (s & 1) : (s & 1));
		net_host(host, sizeof(host), n);
		snprintf(x->rcpt, sizeof(x->rcpt), "<user%u@r%u.remote.test>",
		         s, d);
		if (k != K_UNLICENSED) {
			s = (s & ~1u) | (k == K_TRUST6);
			if (s % 2 == 0)
				snprintf(x->sender, sizeof(x->sender),
				         "<anyone@s%u.example>", s);
			else
				snprintf(x->sender, sizeof(x->sender),
				         "<u%u@s%u.example>", s, s);
		}
		break;
	case K__COUNT:
		break;
	}
	if (rm_ip_parse(host, &x->ip) != 0) {
		fprintf(stderr, "scale: bad generated address %s\n", host);
		exit(1);
	}
	x->f.f_client_ip = &x->ip;
	x->f.f_client_name = "client.test";
	x->f.f_helo = x->helo;
	x->f.f_sender = x->sender;
	x->f.f_rcpt = x->rcpt;
}

static void
pin(void)
{
	cpu_set_t set;
	int cpu = (int)env_ul("SCALE_CPU", (unsigned long)sched_getcpu());

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "scale: cannot pin to CPU %d: %s\n", cpu,
		        strerror(errno));
}

static struct rm_ruleset *
load(const char *conf, double *secs)
{
	char err[1024];
	uint64_t t0 = now_ns();
	struct rm_ruleset *rs = rm_conf_load(conf, err, sizeof(err));

	*secs = (double)(now_ns() - t0) / 1e9;
	if (rs == NULL) {
		fprintf(stderr, "scale: %s\n", err);
		exit(1);
	}
	return rs;
}

/* one size, in its own process; rows to out */
static int
engine_size(FILE *out, const char *conf, unsigned ndom)
{
	unsigned long calls = env_ul("SCALE_CALLS", 2000000),
	              batches = env_ul("SCALE_BATCHES", 7), b, c;
	struct fact *facts;
	struct rm_ruleset *rs;
	struct rm_verdict v;
	uint32_t seed = 2463534242u;
	double secs;
	unsigned i, k, bad = 0;
	volatile unsigned sink = 0;
	uint64_t t0;

	pin();
	rs = load(conf, &secs);
	fprintf(out, "%u\tload_s\t1\t%.6f\n", ndom, secs);
	fprintf(out, "%u\trss_kb\t1\t%ld\n", ndom, proc_kb("VmRSS"));
	fprintf(out, "%u\thwm_kb\t1\t%ld\n", ndom, proc_kb("VmHWM"));
	fflush(out);
	if ((facts = calloc(K__COUNT * NFACTS, sizeof(*facts))) == NULL)
		return -1;
	/* interleaved: fact i is of kind i % K__COUNT */
	for (i = 0; i < K__COUNT * NFACTS; i++) {
		k = i % K__COUNT;
		make_fact(&facts[i], (enum kind)k, ndom, &seed);
		rm_policy_rcpt(rs, &facts[i].f, &v, NULL);
		if (strcmp(v.v_rule, kind_rules[k]) != 0 && bad++ < 5)
			fprintf(stderr,
			        "scale: %s: client %s rcpt %s sender %s: "
			        "rule %s, want %s\n",
			        kind_names[k], facts[i].helo, facts[i].rcpt,
			        facts[i].sender, v.v_rule, kind_rules[k]);
	}
	if (bad) {
		fprintf(stderr, "scale: %u facts decided unexpectedly\n", bad);
		return -1;
	}
	for (b = 0; b < batches; b++) {
		t0 = now_ns();
		for (c = 0; c < calls; c++) {
			rm_policy_rcpt(rs, &facts[c % (K__COUNT * NFACTS)].f,
			               &v, NULL);
			sink += (unsigned)v.v_action;
		}
		fprintf(out, "%u\trcpt_ns\t%lu\t%.1f\n", ndom, b + 1,
		        (double)(now_ns() - t0) / (double)calls);
	}
	/* each kind alone, one batch of a sixth of the calls */
	for (k = 0; k < K__COUNT; k++) {
		t0 = now_ns();
		for (c = 0; c < calls / K__COUNT; c++) {
			rm_policy_rcpt(
			    rs,
			    &facts[(c * K__COUNT + k) % (K__COUNT * NFACTS)].f,
			    &v, NULL);
			sink += (unsigned)v.v_action;
		}
		fprintf(out, "%u\trcpt_ns_%s\t1\t%.1f\n", ndom, kind_names[k],
		        (double)(now_ns() - t0) / (double)(calls / K__COUNT));
	}
	fflush(out);
	free(facts);
	t0 = now_ns();
	rm_ruleset_release(rs);
	fprintf(out, "%u\tfree_s\t1\t%.6f\n", ndom,
	        (double)(now_ns() - t0) / 1e9);
	for (i = 2; i <= 3; i++) {
		rs = load(conf, &secs);
		fprintf(out, "%u\tload_s\t%u\t%.6f\n", ndom, i, secs);
		rm_ruleset_release(rs);
	}
	return fflush(out) == 0 ? 0 : -1;
}

static int
engine(int argc, char **argv)
{
	const char *tsv = argv[2], *dir = argv[3];
	char conf[4096];
	unsigned ndom;
	int i, st;
	pid_t pid;
	FILE *out = fopen(tsv, "a");

	if (out == NULL) {
		perror(tsv);
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	for (i = 4; i < argc; i++) {
		ndom = (unsigned)strtoul(argv[i], NULL, 10);
		snprintf(conf, sizeof(conf), "%s/scale-%u.conf", dir, ndom);
		if (gen(conf, ndom) != 0)
			return 1;
		fflush(NULL);
		if ((pid = fork()) < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(engine_size(out, conf, ndom) == 0 ? 0 : 1);
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "scale: size %u failed\n", ndom);
			return 1;
		}
		unlink(conf);
	}
	return fclose(out) == 0 ? 0 : 1;
}

/* ---- milter sessions ------------------------------------------------- */

#define NR_CONN 0x1000u
#define NR_HELO 0x2000u
#define NR_MAIL 0x4000u
#define NR_RCPT 0x8000u
#define NO_CONN 0x01u
#define NO_HELO 0x02u
#define NO_MAIL 0x04u
#define NO_RCPT 0x08u

#define SCALE_MAX_RELOADS 16

struct sess_run {
	const char *sock;
	uint64_t start, end;
	uint64_t sig_at[SCALE_MAX_RELOADS], seen_at[SCALE_MAX_RELOADS];
	unsigned reloads; /* reloads asked for; seen_at[i] 0: not logged */
	_Atomic unsigned long failed;
	pthread_mutex_t lock;
	FILE *out;
};

static int
put_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
get_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
pkt(int fd, char cmd, const void *data, size_t len)
{
	char hdr[5];
	uint32_t n = htonl((uint32_t)len + 1);

	memcpy(hdr, &n, 4);
	hdr[4] = cmd;
	return put_all(fd, hdr, 5) || put_all(fd, data, len) ? -1 : 0;
}

/* reply - read one reply; its command byte, or 0 on error */
static char
reply(int fd)
{
	char buf[4096];
	uint32_t n;

	if (get_all(fd, &n, 4) != 0)
		return 0;
	n = ntohl(n);
	if (n == 0 || n > sizeof(buf) || get_all(fd, buf, n) != 0)
		return 0;
	return buf[0];
}

/* step - send a command, and read its reply unless told not to */
static int
step(int fd, char cmd, const void *d, size_t len, unsigned proto, unsigned no,
     unsigned nr)
{
	if (proto & no)
		return 0;
	if (pkt(fd, cmd, d, len) != 0)
		return -1;
	return (proto & nr) || reply(fd) != 0 ? 0 : -1;
}

/*
 * one session: negotiate, connect, helo, mail, three recipients, quit;
 * a probe (one != NULL) from 100.66.1.1 with that one recipient, whose
 * reply's command byte goes to *got
 */
static int
session(const char *sock, unsigned n, const char *one, char *got)
{
	static const char *const ips[] = {"203.0.113.9", "10.0.5.7",
	                                  "2001:db8:1f::25"};
	struct sockaddr_un sa;
	char buf[512], rcpt[300];
	uint32_t opt[3] = {htonl(6), htonl(0x1ff), htonl(0x1fffff)}, proto;
	const char *ip = one != NULL ? "100.66.1.1" : ips[n % 3];
	size_t len;
	int fd, i, rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    pkt(fd, 'O', opt, sizeof(opt)) != 0)
		goto out;
	{
		uint32_t hn;
		char body[4096];

		if (get_all(fd, &hn, 4) != 0 || (hn = ntohl(hn)) < 13 ||
		    hn > sizeof(body) || get_all(fd, body, hn) != 0 ||
		    body[0] != 'O')
			goto out;
		memcpy(&proto, body + 9, 4);
		proto = ntohl(proto);
	}
	len = (size_t)snprintf(buf, sizeof(buf), "Cj%cmx.scale.test%c", 0, 0);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
	                        "{daemon_name}%csmtpd%c", 0, 0);
	if (pkt(fd, 'D', buf, len) != 0)
		goto out;
	len = (size_t)snprintf(buf, sizeof(buf), "client.test%c%c", 0,
	                       strchr(ip, ':') ? '6' : '4');
	buf[len++] = 2525 >> 8;
	buf[len++] = 2525 & 255;
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s", ip) + 1;
	if (step(fd, 'C', buf, len, proto, NO_CONN, NR_CONN) != 0 ||
	    step(fd, 'H', "client.test", 12, proto, NO_HELO, NR_HELO) != 0 ||
	    step(fd, 'M', "<a@sender.test>", 16, proto, NO_MAIL, NR_MAIL) != 0)
		goto out;
	if (one != NULL) {
		len = (size_t)snprintf(rcpt, sizeof(rcpt), "<%s>", one) + 1;
		if (pkt(fd, 'R', rcpt, len) != 0 || (*got = reply(fd)) == 0)
			goto out;
	}
	for (i = 0; one == NULL && i < 3; i++) {
		len = (size_t)snprintf(rcpt, sizeof(rcpt),
		                       i == 2 ? "<u%u@remote.test>"
		                              : "<u%u@d%u.example>",
		                       n, (n * 2 + (unsigned)i) % 1000000u) +
		      1;
		if (step(fd, 'R', rcpt, len, proto, NO_RCPT, NR_RCPT) != 0)
			goto out;
	}
	rc = pkt(fd, 'Q', NULL, 0);
out:
	close(fd);
	return rc;
}

static void *
sess_thread(void *arg)
{
	struct sess_run *r = arg;
	unsigned n = (unsigned)(uintptr_t)pthread_self();
	uint64_t t0, t1;

	while ((t0 = now_ns()) < r->end) {
		if (session(r->sock, n++, NULL, NULL) != 0) {
			r->failed++;
			usleep(1000);
			continue;
		}
		t1 = now_ns();
		pthread_mutex_lock(&r->lock);
		fprintf(r->out, "%.6f\t%.1f\n", (double)(t0 - r->start) / 1e9,
		        (double)(t1 - t0) / 1e3);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/*
 * watch - tail LOG from now to the end of the run, reading only what is
 * new (the daemon logs every decision, megabytes a second: re-reading the
 * file would make the watcher the heaviest load on the machine); with a
 * PID, send it SIGUSR1 AT seconds in, note its "reloaded" line, and again
 * AT seconds after each such line, r->reloads times in all.  Without one
 * (the control) it only tails, so both runs carry the same watcher.
 */
static void
watch(struct sess_run *r, pid_t pid, const char *log, double at)
{
	char buf[16384], *p, *nl;
	size_t len = 0;
	ssize_t n;
	unsigned i = 0; /* the reload under way or next */
	uint64_t next = r->start + (uint64_t)(at * 1e9);
	int fd = open(log, O_RDONLY);

	if (fd < 0) {
		perror(log);
		return;
	}
	lseek(fd, 0, SEEK_END);
	while (now_ns() < r->end) {
		if (pid > 0 && i < r->reloads && r->sig_at[i] == 0 &&
		    now_ns() >= next) {
			r->sig_at[i] = now_ns();
			kill(pid, SIGUSR1);
		}
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0) {
			usleep(1000);
			continue;
		}
		len += (size_t)n;
		buf[len] = '\0';
		for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf)));
		     p = nl + 1) {
			*nl = '\0';
			if (i < r->reloads && r->sig_at[i] != 0 &&
			    strstr(p, "reloaded") != NULL &&
			    strstr(p, "(generation ") != NULL) {
				r->seen_at[i++] = now_ns();
				next = now_ns() + (uint64_t)(at * 1e9);
			}
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == sizeof(buf) - 1) /* a line longer than buf */
			len = 0;
	}
	close(fd);
}

static int
sessions(int argc, char **argv)
{
	struct sess_run r;
	unsigned long nthr = env_ul("SCALE_CLIENTS", 2), i;
	pthread_t *th;

	memset(&r, 0, sizeof(r));
	r.sock = strncmp(argv[2], "unix:", 5) == 0 ? argv[2] + 5 : argv[2];
	pthread_mutex_init(&r.lock, NULL);
	if ((r.out = fopen(argv[4], "w")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	fprintf(r.out, "start_s\tlatency_us\n");
	r.start = now_ns();
	r.end = r.start + (uint64_t)(strtod(argv[3], NULL) * 1e9);
	r.reloads = (unsigned)env_ul("SCALE_RELOADS", 3);
	if (r.reloads > SCALE_MAX_RELOADS)
		r.reloads = SCALE_MAX_RELOADS;
	if ((th = calloc(nthr, sizeof(*th))) == NULL)
		return 1;
	for (i = 0; i < nthr; i++)
		pthread_create(&th[i], NULL, sess_thread, &r);
	if (argc >= 8)
		watch(&r, (pid_t)strtol(argv[5], NULL, 10), argv[6],
		      strtod(argv[7], NULL));
	else if (argc == 6) /* the control: the same watcher, no signal */
		watch(&r, 0, argv[5], 0);
	for (i = 0; i < nthr; i++)
		pthread_join(th[i], NULL);
	/* the window, as comment-free rows the script reads from stderr */
	for (i = 0; i < r.reloads; i++)
		printf("reload\t%.6f\t%.6f\n",
		       r.sig_at[i] ? (double)(r.sig_at[i] - r.start) / 1e9
		                   : -1.0,
		       r.seen_at[i] ? (double)(r.seen_at[i] - r.start) / 1e9
		                    : -1.0);
	printf("failed\t%lu\n", (unsigned long)r.failed);
	free(th);
	return fclose(r.out) == 0 ? 0 : 1;
}

/*
 * probe - per line "T0 ADDRESS accept|refuse" on stdin (T0: the wall
 * clock, seconds since the epoch, when the change was made), sessions
 * with RCPT ADDRESS every SCALE_PROBE_GAP_US (1000) until its reply is
 * the one wanted (accept: continue; refuse: anything else), at most
 * SCALE_PROBE_MAX_S (10) seconds; prints "MS TRIES" per line, the
 * milliseconds from T0 to the end of the first session that answered as
 * wanted, or "timeout TRIES"
 */
static int
probe(const char *sock)
{
	unsigned long gap = env_ul("SCALE_PROBE_GAP_US", 1000);
	double max = (double)env_ul("SCALE_PROBE_MAX_S", 10), t0, t;
	char line[512], addr[300], want[16], got;
	struct timespec ts;
	unsigned long tries;

	if (strncmp(sock, "unix:", 5) == 0)
		sock += 5;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%lf %299s %15s", &t0, addr, want) != 3)
			return 2;
		for (tries = 1;; tries++) {
			got = 0;
			session(sock, 0, addr, &got);
			clock_gettime(CLOCK_REALTIME, &ts);
			t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
			if (got != 0 && (got == 'c') == (want[0] == 'a')) {
				printf("%.3f %lu\n", (t - t0) * 1e3, tries);
				break;
			}
			if (t - t0 > max) {
				printf("timeout %lu\n", tries);
				break;
			}
			usleep((useconds_t)gap);
		}
	}
	return 0;
}

static int
burn(double secs, unsigned long mb)
{
	struct sched_param sp = {0};
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	size_t n = mb << 20;
	void *m;

	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
		perror("burn");
		return 1;
	}
	while (now_ns() < end) {
		m = mmap(NULL, n, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			perror("burn: mmap");
			return 1;
		}
		memset(m, 1, n);
		munmap(m, n);
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: scale gen FILE NDOMAINS\n"
	                "       scale engine TSV DIR SIZE...\n"
	                "       scale sessions SOCKET SECONDS TSV "
	                "[LOG | PID LOG AT]\n"
	                "       scale probe SOCKET\n"
	                "       scale burn SECONDS MB\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], (unsigned)strtoul(argv[3], NULL, 10)) ? 1
		                                                          : 0;
	if (argc >= 5 && strcmp(argv[1], "engine") == 0)
		return engine(argc, argv);
	if ((argc == 5 || argc == 6 || argc == 8) &&
	    strcmp(argv[1], "sessions") == 0)
		return sessions(argc, argv);
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	if (argc == 4 && strcmp(argv[1], "burn") == 0)
		return burn(strtod(argv[2], NULL), strtoul(argv[3], NULL, 10));
	usage();
	return 2;
}
