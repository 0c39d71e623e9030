/*
 * miltload.c - a milter load generator: the MTA side of the milter
 * protocol (version 6, as Postfix speaks it), straight to a milter's
 * socket, with N concurrent sessions.
 *
 * Each session is one SMTP connection as the MTA reports it:
 *
 *   SMFIC_OPTNEG (every action, every protocol flag Postfix offers,
 *                 including SMFIP_NR_* and SMFIF_SETSYMLIST)
 *   SMFIC_MACRO + SMFIC_CONNECT   (family '4', '6' or 'U', port, address)
 *   SMFIC_MACRO + SMFIC_HELO
 *   then per message (-m):
 *     SMFIC_MACRO + SMFIC_MAIL
 *     SMFIC_MACRO + SMFIC_RCPT    x k (-k)
 *     SMFIC_ABORT, or (-e data) DATA, headers (From: is the -f sender),
 *     EOH, body, end of message
 *   SMFIC_QUIT
 *
 * and it honours the negotiation the way an MTA must: a step the milter
 * negotiated away (SMFIP_NO*) is not sent, nor are its macros; for a step
 * with SMFIP_NR_* no reply is awaited (such commands are written together
 * with the next command that is answered); the macros of a stage are the
 * milter's smfi_setsymlist() list when it set one, else Postfix's default
 * milter_*_macros; a reply is one of SMFIR_CONTINUE, ACCEPT, REJECT,
 * TEMPFAIL, REPLYCODE, DISCARD (SKIP for body chunks, PROGRESS while
 * waiting, modifications only at end of message and only those the
 * milter negotiated).  Anything else -- a short read, a bad length, an
 * unexpected reply, a timeout, a refused connection -- ends that session
 * and counts as an error; the run goes on.
 *
 * Output: one TSV row per protocol step (see usage()), latencies in
 * microseconds from writing a step's command (with any unanswered
 * commands before it) to reading its reply.  "negotiate" runs from
 * connect(2) to the option negotiation reply; "session" from connect(2)
 * to the milter closing the connection after QUIT (or to writing QUIT,
 * with -Q).  sessions/s counts sessions that completed without error,
 * over the time from the first measured session's start to the last
 * one's end.  -P FILE writes what the milter negotiated (see usage()).
 *
 * Build: cc -O2 -pthread -o miltload miltload.c   (no libmilter needed)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* --- the protocol (libmilter/mfdef.h values, so no libmilter needed) */
#define PROT_VERSION 6

#define C_ABORT   'A'
#define C_BODY    'B'
#define C_CONNECT 'C'
#define C_MACRO   'D'
#define C_BODYEOB 'E'
#define C_HELO    'H'
#define C_HEADER  'L'
#define C_MAIL    'M'
#define C_EOH     'N'
#define C_OPTNEG  'O'
#define C_QUIT    'Q'
#define C_RCPT    'R'
#define C_DATA    'T'

#define R_ADDRCPT     '+'
#define R_DELRCPT     '-'
#define R_ADDRCPT_PAR '2'
#define R_SHUTDOWN    '4'
#define R_ACCEPT      'a'
#define R_REPLBODY    'b'
#define R_CONTINUE    'c'
#define R_DISCARD     'd'
#define R_CHGFROM     'e'
#define R_CONN_FAIL   'f'
#define R_ADDHEADER   'h'
#define R_INSHEADER   'i'
#define R_CHGHEADER   'm'
#define R_PROGRESS    'p'
#define R_QUARANTINE  'q'
#define R_REJECT      'r'
#define R_SKIP        's'
#define R_TEMPFAIL    't'
#define R_REPLYCODE   'y'

#define F_ADDHDRS     0x001UL
#define F_CHGBODY     0x002UL
#define F_ADDRCPT     0x004UL
#define F_DELRCPT     0x008UL
#define F_CHGHDRS     0x010UL
#define F_QUARANTINE  0x020UL
#define F_CHGFROM     0x040UL
#define F_ADDRCPT_PAR 0x080UL
#define F_SETSYMLIST  0x100UL
#define F_ALL         0x1ffUL

#define P_NOCONNECT   0x000001UL
#define P_NOHELO      0x000002UL
#define P_NOMAIL      0x000004UL
#define P_NORCPT      0x000008UL
#define P_NOBODY      0x000010UL
#define P_NOHDRS      0x000020UL
#define P_NOEOH       0x000040UL
#define P_NR_HDR      0x000080UL
#define P_NOUNKNOWN   0x000100UL
#define P_NODATA      0x000200UL
#define P_SKIP        0x000400UL
#define P_RCPT_REJ    0x000800UL
#define P_NR_CONN     0x001000UL
#define P_NR_HELO     0x002000UL
#define P_NR_MAIL     0x004000UL
#define P_NR_RCPT     0x008000UL
#define P_NR_DATA     0x010000UL
#define P_NR_UNKN     0x020000UL
#define P_NR_EOH      0x040000UL
#define P_NR_BODY     0x080000UL
#define P_HDR_LEADSPC 0x100000UL
#define P_ALL         0x1fffffUL /* what Postfix offers; no MDS_* */

/* macro stages (SMFIM_*) and the command each one precedes */
enum { M_CONNECT, M_HELO, M_ENVFROM, M_ENVRCPT, M_DATA, M_EOM, M_EOH, M_N };
static const char stage_cmd[M_N] = {C_CONNECT, C_HELO,    C_MAIL, C_RCPT,
                                    C_DATA,    C_BODYEOB, C_EOH};
/* Postfix's default milter_*_macros, used when the milter sets no list */
static const char *const postfix_macros[M_N] = {
    "j {daemon_name} {daemon_addr} v",
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
    "{mail_mailer}",
    "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    "i",
    "i",
    "i",
};

#define PKT_MAX     (1U << 18) /* largest packet we accept from a milter */
#define BODY_CHUNK  65535U     /* MILTER_CHUNK_SIZE */
#define MAX_NAMES   64         /* macro names per stage */
#define MAX_ERRMSGS 8          /* error messages kept for the report */

/* --- steps measured */
enum step {
	S_NEG,
	S_CONNECT,
	S_HELO,
	S_MAIL,
	S_RCPT,
	S_DATA,
	S_HEADER,
	S_EOH,
	S_BODY,
	S_EOM,
	S_ABORT,
	S_QUIT,
	S_SESSION,
	S_N
};
static const char *const step_name[S_N] = {
    "negotiate", "connect", "helo", "mail",  "rcpt", "data",   "header",
    "eoh",       "body",    "eom",  "abort", "quit", "session"};

/* reply classes counted per step */
enum { K_CONTINUE, K_ACCEPT, K_REJECT, K_TEMPFAIL, K_REPLYCODE, K_OTHER, K_N };

/* --- options */
static struct opts {
	const char *socket;
	long sessions, concurrency, rcpts, messages, warmup, body;
	long timeout, limit, port;
	const char *client_addr, *client_name, *helo, *sender, *rcpt;
	const char *login, *daemon_name, *daemon_addr, *myhost, *mailer;
	const char *label, *outfile, *negfile;
	bool data, nowait, verbose;
} o = {
    .sessions = 1000,
    .concurrency = 8,
    .rcpts = 1,
    .messages = 1,
    .warmup = 0,
    .body = 1024,
    .timeout = 10,
    .limit = 600,
    .port = 0,
    .client_addr = "127.0.0.1",
    .client_name = "unknown",
    .helo = "client.example.org",
    .sender = "sender@example.org",
    .rcpt = "user%d@example.com",
    .daemon_name = "smtpd",
    .daemon_addr = "127.0.0.1",
    .myhost = "mx.example.com",
    .mailer = "smtp",
    .label = "-",
};

/* --- where the milter is, resolved once */
static struct sockaddr_storage peer;
static socklen_t peer_len;
static char client_family; /* '4', '6' or 'U' */

/* --- run state */
static atomic_long next_warmup, next_session;
static char body[BODY_CHUNK];     /* -e data: the body chunks' bytes */
static atomic_bool stop_starting; /* -L reached */
static struct timespec run_start; /* for -L */
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char *errmsgs[MAX_ERRMSGS];
static int nerrmsgs;
/* -P: the first negotiation, and how many differed from it */
static pthread_mutex_t neg_lock = PTHREAD_MUTEX_INITIALIZER;
static bool neg_any;
static unsigned long neg_version, neg_actions, neg_proto, neg_varied;

/* --- per-thread measurements */
struct samples {
	uint32_t *v; /* nanoseconds, saturated */
	size_t n, cap;
};

struct stats {
	struct samples lat[S_N];
	unsigned long sent[S_N], replied[S_N], kind[S_N][K_N];
	unsigned long ok, errors;
	struct timespec first, last; /* first start, last end */
	bool any;
};

/* --- one connection */
struct conn {
	int fd;
	unsigned char *out; /* commands not yet written */
	size_t olen, ocap, mark;
	unsigned char *in; /* the last packet read */
	uint32_t ilen;
	char icmd;
	/* negotiated */
	unsigned long actions, proto;
	char *names[M_N][MAX_NAMES];
	int nnames[M_N];
	char symbuf[M_N][1024];
	/* the session's facts */
	long index;
	int rcpt_no;
	char port[8];
	/* failure text */
	char err[256];
};

struct worker {
	pthread_t th;
	pthread_barrier_t *bar;
	struct stats st, junk; /* junk: the warm-up's */
	unsigned char *inbuf;
};

/* ------------------------------------------------------------------ */

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("miltload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: miltload -s SOCKET [-n SESSIONS] [-c CONCURRENCY] "
	    "[-k RCPTS]\n"
	    "                [-m MESSAGES] [-w WARMUP] [-e abort|data] "
	    "[-b BODYBYTES]\n"
	    "                [-a CLIENTADDR] [-N CLIENTNAME] [-p PORT] "
	    "[-H HELO] [-f SENDER]\n"
	    "                [-r RCPT] [-A LOGIN] [-D DAEMONNAME] "
	    "[-d DAEMONADDR] [-j MYHOST]\n"
	    "                [-R MAILER] [-t TIMEOUT] [-L SECONDS] "
	    "[-l LABEL] [-o FILE] [-P FILE] [-Qv]\n"
	    "  -s SOCKET   unix:/path, local:/path, /path, inet:PORT@HOST or "
	    "inet6:PORT@HOST\n"
	    "  -n N        measured sessions (connections), default 1000\n"
	    "  -c N        concurrent sessions, default 8 (max 1024)\n"
	    "  -k N        recipients per message, default 1 (0: MAIL only)\n"
	    "  -m N        messages per connection, default 1\n"
	    "  -w N        warm-up sessions before measuring, default 0\n"
	    "  -e abort    end each message with SMFIC_ABORT (default);\n"
	    "  -e data     send DATA, headers, EOH, body, end of message;\n"
	    "              From: is the -f sender (<> when it is \"\")\n"
	    "  -b N        body bytes with -e data, default 1024\n"
	    "  -a ADDR     client address, IPv4 or IPv6 (family '4'/'6'), or\n"
	    "              \"unknown\" (family 'U'); default 127.0.0.1\n"
	    "  -N NAME     client host name (connect, {client_name}), "
	    "default unknown\n"
	    "  -p PORT     client port, default 0: a different one per "
	    "session\n"
	    "  -H HELO     default client.example.org\n"
	    "  -f SENDER   MAIL FROM address without <>, \"\" for <>; "
	    "default sender@example.org\n"
	    "  -r RCPT     RCPT TO address; %%d becomes the recipient's "
	    "number (1..k);\n"
	    "              default user%%d@example.com\n"
	    "  -A LOGIN    SMTP AUTH login ({auth_authen}, {auth_type}=PLAIN)\n"
	    "  -D NAME     {daemon_name}, default smtpd\n"
	    "  -d ADDR     {daemon_addr}, default 127.0.0.1\n"
	    "  -j HOST     j (the MTA's host name), default mx.example.com\n"
	    "  -R MAILER   {rcpt_mailer}, default smtp\n"
	    "  -t SECONDS  I/O timeout per step, default 10\n"
	    "  -L SECONDS  start no session after this long, default 600\n"
	    "  -Q          do not wait for the milter to close after QUIT\n"
	    "  -l LABEL    first column of the TSV rows, default -\n"
	    "  -o FILE     write the TSV there instead of stdout\n"
	    "  -P FILE     write the negotiation there, one TSV line:\n"
	    "              version, actions and protocol (hex), the protocol\n"
	    "              flags by name, each step as step:answered,\n"
	    "              step:noreply or step:off, and how many sessions\n"
	    "              negotiated other flags than the first\n"
	    "  -v          print every error (else the first %d)\n"
	    "Output (TSV, one row per step that was sent, plus "
	    "\"session\"):\n"
	    "  label step sent replied p50_us p99_us max_us continue accept "
	    "reject\n"
	    "  tempfail replycode other sessions errors elapsed_s "
	    "sessions_per_s cpu_s\n"
	    "Exit: 0, 1 when any session failed, 2 on bad usage.\n",
	    MAX_ERRMSGS);
}

static long
num(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("%s \"%s\": expected a number from %ld to %ld", what, s,
		    min, max);
	return v;
}

/* text - check a value that goes into a NUL-terminated protocol field. */
static void
text(const char *s, const char *what, size_t max)
{
	if (strlen(s) > max)
		die("%s: longer than %zu bytes", what, max);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			die("%s: control characters are not allowed", what);
}

static void
parse_socket(const char *spec)
{
	const char *path = NULL, *at;
	struct addrinfo hints, *res;
	char port[16], host[256];
	int family = AF_UNSPEC, rc;
	size_t n;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&peer;

		if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
			die("-s %s: bad or too long path", spec);
		memset(&peer, 0, sizeof(peer));
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		peer_len = sizeof(*sun);
		return;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		family = AF_INET;
		spec += 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		family = AF_INET6;
		spec += 6;
	} else
		die("-s %s: expected unix:/path, inet:PORT@HOST or "
		    "inet6:PORT@HOST",
		    spec);
	if ((at = strchr(spec, '@')) == NULL || at == spec ||
	    (size_t)(at - spec) >= sizeof(port) || at[1] == '\0' ||
	    strlen(at + 1) >= sizeof(host))
		die("-s: expected PORT@HOST, got \"%s\"", spec);
	n = (size_t)(at - spec);
	memcpy(port, spec, n);
	port[n] = '\0';
	(void)num(port, "-s port", 1, 65535);
	strcpy(host, at + 1);
	/* inet6:PORT@[::1] */
	if (host[0] == '[' && (n = strlen(host)) > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		die("-s: %s: %s", host, gai_strerror(rc));
	memcpy(&peer, res->ai_addr, res->ai_addrlen);
	peer_len = res->ai_addrlen;
	freeaddrinfo(res);
}

static void
parse_args(int argc, char **argv)
{
	unsigned char b[16];
	const char *p;
	int c, pct = 0;

	while ((c = getopt(
	            argc, argv,
	            "s:n:c:k:m:w:e:b:a:N:p:H:f:r:A:D:d:j:R:t:L:l:o:P:Qvh")) !=
	       -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'n':
			o.sessions = num(optarg, "-n", 1, 100000000L);
			break;
		case 'c':
			o.concurrency = num(optarg, "-c", 1, 1024);
			break;
		case 'k':
			o.rcpts = num(optarg, "-k", 0, 1000);
			break;
		case 'm':
			o.messages = num(optarg, "-m", 1, 10000);
			break;
		case 'w':
			o.warmup = num(optarg, "-w", 0, 100000000L);
			break;
		case 'e':
			if (strcmp(optarg, "abort") == 0)
				o.data = false;
			else if (strcmp(optarg, "data") == 0)
				o.data = true;
			else
				die("-e %s: expected abort or data", optarg);
			break;
		case 'b':
			o.body = num(optarg, "-b", 0, 64L << 20);
			break;
		case 'a':
			o.client_addr = optarg;
			break;
		case 'N':
			o.client_name = optarg;
			break;
		case 'p':
			o.port = num(optarg, "-p", 0, 65535);
			break;
		case 'H':
			o.helo = optarg;
			break;
		case 'f':
			o.sender = optarg;
			break;
		case 'r':
			o.rcpt = optarg;
			break;
		case 'A':
			o.login = optarg;
			break;
		case 'D':
			o.daemon_name = optarg;
			break;
		case 'd':
			o.daemon_addr = optarg;
			break;
		case 'j':
			o.myhost = optarg;
			break;
		case 'R':
			o.mailer = optarg;
			break;
		case 't':
			o.timeout = num(optarg, "-t", 1, 3600);
			break;
		case 'L':
			o.limit = num(optarg, "-L", 1, 86400);
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'o':
			o.outfile = optarg;
			break;
		case 'P':
			o.negfile = optarg;
			break;
		case 'Q':
			o.nowait = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o.socket == NULL)
		die("-s SOCKET is required (try -h)");
	parse_socket(o.socket);
	if (o.concurrency > o.sessions)
		o.concurrency = o.sessions;
	/* every latency sample is kept: bound the memory */
	if ((double)o.sessions * o.messages * (o.rcpts > 0 ? o.rcpts : 1) > 5e7)
		die("-n x -m x -k: at most 50000000 recipients in one run");
	if (inet_pton(AF_INET, o.client_addr, b) == 1)
		client_family = '4';
	else if (inet_pton(AF_INET6, o.client_addr, b) == 1)
		client_family = '6';
	else if (strcmp(o.client_addr, "unknown") == 0)
		client_family = 'U';
	else
		die("-a %s: expected an IPv4 or IPv6 address or \"unknown\"",
		    o.client_addr);
	text(o.client_name, "-N", 255);
	text(o.helo, "-H", 255);
	text(o.sender, "-f", 255);
	text(o.rcpt, "-r", 255);
	if (o.login != NULL)
		text(o.login, "-A", 255);
	text(o.daemon_name, "-D", 255);
	text(o.daemon_addr, "-d", 255);
	text(o.myhost, "-j", 255);
	text(o.mailer, "-R", 63);
	text(o.label, "-l", 255);
	if (strpbrk(o.label, "\t") != NULL)
		die("-l: no tabs");
	/* -r: at most one %d and no other conversion */
	for (p = o.rcpt; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] != 'd' || ++pct > 1)
			die("-r %s: only one %%d is allowed", o.rcpt);
	}
}

/* ------------------------------------------------------------------ */

static void
now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static uint64_t
ns_between(const struct timespec *a, const struct timespec *b)
{
	int64_t d = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 +
	            (b->tv_nsec - a->tv_nsec);

	return d < 0 ? 0 : (uint64_t)d;
}

static void
sample_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void fail(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fail - remember why the session failed (the first reason wins). */
static void
fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static void
record_error(const struct conn *c)
{
	pthread_mutex_lock(&err_lock);
	if (o.verbose)
		fprintf(stderr, "miltload: session %ld: %s\n", c->index,
		        c->err);
	else if (nerrmsgs < MAX_ERRMSGS) {
		char buf[320];

		snprintf(buf, sizeof(buf), "session %ld: %s", c->index, c->err);
		errmsgs[nerrmsgs] = strdup(buf);
		if (errmsgs[nerrmsgs] != NULL)
			nerrmsgs++;
	}
	pthread_mutex_unlock(&err_lock);
}

/* --- output buffer: packets are built here and written together */

static void
ob_need(struct conn *c, size_t n)
{
	if (c->olen + n > c->ocap) {
		size_t cap = c->ocap ? c->ocap : 4096;
		unsigned char *p;

		while (cap < c->olen + n)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL)
			die("out of memory");
		c->out = p;
		c->ocap = cap;
	}
}

static void
ob_put(struct conn *c, const void *p, size_t n)
{
	ob_need(c, n);
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
}

static void
ob_str(struct conn *c, const char *s)
{
	ob_put(c, s, strlen(s) + 1);
}

static void
ob_begin(struct conn *c, char cmd)
{
	ob_need(c, 5);
	c->mark = c->olen;
	c->olen += 4;
	c->out[c->olen++] = (unsigned char)cmd;
}

static void
ob_end(struct conn *c)
{
	uint32_t n = htonl((uint32_t)(c->olen - c->mark - 4));

	memcpy(c->out + c->mark, &n, 4);
}

/* flush - write every pending command. */
static int
flush(struct conn *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->olen) {
		n = send(c->fd, c->out + off, c->olen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(c, "write: %s",
			     n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
			         ? "timed out"
			         : strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	c->olen = 0;
	return 0;
}

/* readn - exactly n bytes; 0, or -1 with the reason (EOF is one). */
static int
readn(struct conn *c, void *buf, size_t n, const char *what)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = recv(c->fd, (char *)buf + off, n - off, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fail(c, "%s: connection closed by the milter%s", what,
			     off ? " in the middle of a packet" : "");
			return -1;
		}
		if (r < 0) {
			fail(c, "%s: read: %s", what,
			     errno == EAGAIN || errno == EWOULDBLOCK
			         ? "timed out"
			         : strerror(errno));
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* read_packet - one packet from the milter into c->in / c->ilen. */
static int
read_packet(struct conn *c, const char *what)
{
	uint32_t len;

	if (readn(c, &len, 4, what) != 0)
		return -1;
	len = ntohl(len);
	if (len == 0 || len > PKT_MAX) {
		fail(c, "%s: bad packet length %lu", what, (unsigned long)len);
		return -1;
	}
	if (readn(c, c->in, len, what) != 0)
		return -1;
	c->icmd = (char)c->in[0];
	c->ilen = len - 1;
	/* a terminator for the string replies; PKT_MAX + 1 bytes exist */
	c->in[len] = '\0';
	return 0;
}

/* --- negotiation */

static int
parse_symlists(struct conn *c, const unsigned char *p, size_t n)
{
	for (int i = 0; i < M_N; i++)
		c->nnames[i] = -1; /* -1: no list, use Postfix's */
	while (n > 0) {
		uint32_t idx;
		const unsigned char *nul;
		size_t len;
		char *s, *save = NULL, *tok;

		if (n < 5) {
			fail(c, "negotiate: truncated macro list");
			return -1;
		}
		memcpy(&idx, p, 4);
		idx = ntohl(idx);
		p += 4;
		n -= 4;
		if ((nul = memchr(p, '\0', n)) == NULL) {
			fail(c, "negotiate: unterminated macro list");
			return -1;
		}
		len = (size_t)(nul - p);
		if (idx >= M_N || c->nnames[idx] != -1) {
			fail(c, "negotiate: bad or repeated macro stage %lu",
			     (unsigned long)idx);
			return -1;
		}
		if (len >= sizeof(c->symbuf[idx])) {
			fail(c, "negotiate: macro list too long");
			return -1;
		}
		memcpy(c->symbuf[idx], p, len + 1);
		c->nnames[idx] = 0;
		for (s = c->symbuf[idx];
		     (tok = strtok_r(s, " \t,", &save)) != NULL; s = NULL) {
			if (c->nnames[idx] == MAX_NAMES) {
				fail(c, "negotiate: more than %d macros",
				     MAX_NAMES);
				return -1;
			}
			c->names[idx][c->nnames[idx]++] = tok;
		}
		p += len + 1;
		n -= len + 1;
	}
	/* the stages without a list of the milter's get Postfix's */
	for (int i = 0; i < M_N; i++) {
		char *s, *save = NULL, *tok;

		if (c->nnames[i] != -1)
			continue;
		snprintf(c->symbuf[i], sizeof(c->symbuf[i]), "%s",
		         postfix_macros[i]);
		c->nnames[i] = 0;
		for (s = c->symbuf[i];
		     (tok = strtok_r(s, " ", &save)) != NULL &&
		     c->nnames[i] < MAX_NAMES;
		     s = NULL)
			c->names[i][c->nnames[i]++] = tok;
	}
	return 0;
}

/* neg_record - keep the first negotiation, count those that differ */
static void
neg_record(unsigned long version, unsigned long actions, unsigned long proto)
{
	pthread_mutex_lock(&neg_lock);
	if (!neg_any) {
		neg_any = true;
		neg_version = version;
		neg_actions = actions;
		neg_proto = proto;
	} else if (version != neg_version || actions != neg_actions ||
	           proto != neg_proto)
		neg_varied++;
	pthread_mutex_unlock(&neg_lock);
}

/* neg_write - the -P line (see usage()) */
static void
neg_write(const char *path)
{
	static const struct {
		unsigned long bit;
		const char *name;
	} flag[] = {
	    {P_NOCONNECT, "NOCONNECT"},
	    {P_NOHELO, "NOHELO"},
	    {P_NOMAIL, "NOMAIL"},
	    {P_NORCPT, "NORCPT"},
	    {P_NODATA, "NODATA"},
	    {P_NOHDRS, "NOHDRS"},
	    {P_NOEOH, "NOEOH"},
	    {P_NOBODY, "NOBODY"},
	    {P_NOUNKNOWN, "NOUNKNOWN"},
	    {P_NR_CONN, "NR_CONN"},
	    {P_NR_HELO, "NR_HELO"},
	    {P_NR_MAIL, "NR_MAIL"},
	    {P_NR_RCPT, "NR_RCPT"},
	    {P_NR_DATA, "NR_DATA"},
	    {P_NR_HDR, "NR_HDR"},
	    {P_NR_EOH, "NR_EOH"},
	    {P_NR_BODY, "NR_BODY"},
	    {P_NR_UNKN, "NR_UNKN"},
	    {P_SKIP, "SKIP"},
	    {P_RCPT_REJ, "RCPT_REJ"},
	    {P_HDR_LEADSPC, "HDR_LEADSPC"},
	};
	/* the steps of a message, each off (NO*) or without reply (NR_*) */
	static const struct {
		const char *name;
		unsigned long off, nr;
	} stp[] = {
	    {"connect", P_NOCONNECT, P_NR_CONN},
	    {"helo", P_NOHELO, P_NR_HELO},
	    {"mail", P_NOMAIL, P_NR_MAIL},
	    {"rcpt", P_NORCPT, P_NR_RCPT},
	    {"data", P_NODATA, P_NR_DATA},
	    {"header", P_NOHDRS, P_NR_HDR},
	    {"eoh", P_NOEOH, P_NR_EOH},
	    {"body", P_NOBODY, P_NR_BODY},
	    {"eom", 0, 0},
	};
	const char *sep = "";
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	if (!neg_any) {
		fputs("-\t-\t-\t-\t-\t0\n", f);
	} else {
		fprintf(f, "%lu\t0x%lx\t0x%lx\t", neg_version, neg_actions,
		        neg_proto);
		for (size_t i = 0; i < sizeof(flag) / sizeof(flag[0]); i++)
			if (neg_proto & flag[i].bit) {
				fprintf(f, "%s%s", sep, flag[i].name);
				sep = " ";
			}
		fputc('\t', f);
		for (size_t i = 0; i < sizeof(stp) / sizeof(stp[0]); i++)
			fprintf(f, "%s%s:%s", i ? " " : "", stp[i].name,
			        neg_proto & stp[i].off  ? "off"
			        : neg_proto & stp[i].nr ? "noreply"
			                                : "answered");
		fprintf(f, "\t%lu\n", neg_varied);
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static int
negotiate(struct conn *c)
{
	uint32_t v[3];

	ob_begin(c, C_OPTNEG);
	v[0] = htonl(PROT_VERSION);
	v[1] = htonl(F_ALL);
	v[2] = htonl(P_ALL);
	ob_put(c, v, sizeof(v));
	ob_end(c);
	if (flush(c) != 0 || read_packet(c, "negotiate") != 0)
		return -1;
	if (c->icmd != C_OPTNEG) {
		fail(c, "negotiate: reply '%c' (0x%02x), expected 'O'",
		     c->icmd >= 0x20 && c->icmd < 0x7f ? c->icmd : '?',
		     (unsigned char)c->icmd);
		return -1;
	}
	if (c->ilen < 12) {
		fail(c, "negotiate: reply of %lu bytes, expected >= 12",
		     (unsigned long)c->ilen);
		return -1;
	}
	memcpy(v, c->in + 1, 12);
	v[0] = ntohl(v[0]);
	c->actions = ntohl(v[1]);
	c->proto = ntohl(v[2]);
	if (v[0] < 2 || v[0] > PROT_VERSION) {
		fail(c, "negotiate: milter protocol version %lu",
		     (unsigned long)v[0]);
		return -1;
	}
	if ((c->actions & ~F_ALL) != 0 || (c->proto & ~P_ALL) != 0) {
		fail(c,
		     "negotiate: the milter wants actions 0x%lx / protocol "
		     "0x%lx we did not offer",
		     c->actions & ~F_ALL, c->proto & ~P_ALL);
		return -1;
	}
	if (c->ilen > 12 && !(c->actions & F_SETSYMLIST)) {
		fail(c, "negotiate: macro lists without SMFIF_SETSYMLIST");
		return -1;
	}
	neg_record(v[0], c->actions, c->proto);
	return parse_symlists(c, c->in + 13, c->ilen - 12);
}

/* --- macros */

/* rcpt_addr - the -r address of recipient number n. */
static void
rcpt_addr(int n, char *buf, size_t len)
{
	const char *p = strstr(o.rcpt, "%d");

	if (p == NULL)
		snprintf(buf, len, "%s", o.rcpt);
	else
		snprintf(buf, len, "%.*s%d%s", (int)(p - o.rcpt), o.rcpt, n,
		         p + 2);
}

/*
 * macro_value - what the MTA knows for a macro name (with or without
 * braces), or NULL: an unknown macro is not sent, as Postfix does.
 */
static const char *
macro_value(struct conn *c, const char *name, char *buf, size_t len)
{
	char key[64];
	size_t n = strlen(name);
	const char *at;

	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		name++;
		n -= 2;
	}
	if (n >= sizeof(key))
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	if (strcmp(key, "j") == 0)
		return o.myhost;
	if (strcmp(key, "_") == 0) {
		snprintf(buf, len, "%s [%s]", o.client_name, o.client_addr);
		return buf;
	}
	if (strcmp(key, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(key, "i") == 0) {
		snprintf(buf, len, "4Q%08lX", (unsigned long)c->index);
		return buf;
	}
	if (strcmp(key, "daemon_name") == 0)
		return o.daemon_name;
	if (strcmp(key, "daemon_addr") == 0)
		return o.daemon_addr;
	if (strcmp(key, "daemon_port") == 0)
		return "25";
	if (strcmp(key, "client_addr") == 0)
		return client_family == 'U' ? NULL : o.client_addr;
	if (strcmp(key, "client_port") == 0)
		return client_family == 'U' ? NULL : c->port;
	if (strcmp(key, "client_name") == 0 || strcmp(key, "client_ptr") == 0)
		return o.client_name;
	if (strcmp(key, "auth_authen") == 0)
		return o.login;
	if (strcmp(key, "auth_type") == 0)
		return o.login != NULL ? "PLAIN" : NULL;
	if (strcmp(key, "mail_addr") == 0)
		return o.sender;
	if (strcmp(key, "rcpt_addr") == 0) {
		rcpt_addr(c->rcpt_no, buf, len);
		return buf;
	}
	if (strcmp(key, "rcpt_host") == 0) {
		/* the next hop: the domain, or us for a bare user */
		rcpt_addr(c->rcpt_no, buf, len);
		return (at = strrchr(buf, '@')) != NULL ? at + 1 : o.myhost;
	}
	if (strcmp(key, "rcpt_mailer") == 0)
		return o.mailer;
	return NULL;
}

static void
macros(struct conn *c, int stage)
{
	char buf[600];
	const char *v;
	size_t start = c->olen;
	bool any = false;

	ob_begin(c, C_MACRO);
	ob_put(c, &stage_cmd[stage], 1);
	for (int i = 0; i < c->nnames[stage]; i++) {
		if ((v = macro_value(c, c->names[stage][i], buf,
		                     sizeof(buf))) == NULL)
			continue;
		ob_str(c, c->names[stage][i]);
		ob_str(c, v);
		any = true;
	}
	if (any)
		ob_end(c);
	else
		c->olen = start; /* nothing to define: send nothing */
}

/* --- replies */

/* the modification actions and the flag each one needs */
static unsigned long
action_flag(char r)
{
	switch (r) {
	case R_ADDHEADER:
	case R_INSHEADER:
		return F_ADDHDRS;
	case R_CHGHEADER:
		return F_CHGHDRS;
	case R_REPLBODY:
		return F_CHGBODY;
	case R_ADDRCPT:
		return F_ADDRCPT;
	case R_ADDRCPT_PAR:
		return F_ADDRCPT_PAR;
	case R_DELRCPT:
		return F_DELRCPT;
	case R_CHGFROM:
		return F_CHGFROM;
	case R_QUARANTINE:
		return F_QUARANTINE;
	default:
		return 0;
	}
}

/*
 * answer - write what is pending and read the reply to step s: the final
 * reply letter, or 0 on error.  Progress is waited through; modifications
 * are taken at end of message when negotiated.
 */
static char
answer(struct conn *c, struct stats *st, enum step s)
{
	struct timespec t0, t1;
	const char *what = step_name[s];
	unsigned long need;
	int k;

	now(&t0);
	if (flush(c) != 0)
		return 0;
	for (;;) {
		if (read_packet(c, what) != 0)
			return 0;
		if (c->icmd == R_PROGRESS)
			continue;
		if ((need = action_flag(c->icmd)) != 0) {
			if (s != S_EOM || !(c->actions & need)) {
				fail(c, "%s: modification '%c' %s", what,
				     c->icmd,
				     s != S_EOM ? "before end of message"
				                : "not negotiated");
				return 0;
			}
			continue;
		}
		break;
	}
	now(&t1);
	switch (c->icmd) {
	case R_CONTINUE:
		k = K_CONTINUE;
		break;
	case R_ACCEPT:
		k = K_ACCEPT;
		break;
	case R_REJECT:
		k = K_REJECT;
		break;
	case R_TEMPFAIL:
		k = K_TEMPFAIL;
		break;
	case R_REPLYCODE:
		/* "ddd text": 4xx or 5xx, NUL-terminated */
		if (c->ilen < 4 || c->in[c->ilen] != '\0' ||
		    (c->in[1] != '4' && c->in[1] != '5') || c->in[2] < '0' ||
		    c->in[2] > '9' || c->in[3] < '0' || c->in[3] > '9' ||
		    memchr(c->in + 1, '\0', c->ilen - 1)) {
			fail(c, "%s: malformed SMFIR_REPLYCODE", what);
			return 0;
		}
		k = K_REPLYCODE;
		break;
	case R_DISCARD:
	case R_CONN_FAIL:
	case R_SHUTDOWN:
		k = K_OTHER;
		break;
	case R_SKIP:
		if (s != S_BODY || !(c->proto & P_SKIP)) {
			fail(c, "%s: SMFIR_SKIP out of place", what);
			return 0;
		}
		k = K_OTHER;
		break;
	default:
		fail(c, "%s: unexpected reply '%c' (0x%02x)", what,
		     c->icmd >= 0x20 && c->icmd < 0x7f ? c->icmd : '?',
		     (unsigned char)c->icmd);
		return 0;
	}
	st->replied[s]++;
	st->kind[s][k]++;
	sample_add(&st->lat[s], ns_between(&t0, &t1));
	return c->icmd;
}

/*
 * step - finish the command the caller began (after its stage's macros)
 * and read the reply unless the milter negotiated "no reply" (nr): then
 * the command waits in the buffer for the next one that is answered.
 * Returns the reply letter, 'c' for no reply, 0 on error.
 */
static char
step(struct conn *c, struct stats *st, enum step s, unsigned long nr)
{
	ob_end(c);
	st->sent[s]++;
	if (c->proto & nr)
		return R_CONTINUE;
	return answer(c, st, s);
}

/* the reply ends every milter step of the connection? */
static bool
conn_over(char r)
{
	return r == R_ACCEPT || r == R_REJECT || r == R_TEMPFAIL ||
	       r == R_REPLYCODE || r == R_DISCARD || r == R_CONN_FAIL ||
	       r == R_SHUTDOWN;
}

/* the reply ends the message (no more steps but ABORT)? */
static bool
msg_over(char r)
{
	return r == R_ACCEPT || r == R_DISCARD || r == R_REJECT ||
	       r == R_TEMPFAIL || r == R_REPLYCODE;
}

static bool
conn_lost(char r)
{
	return r == R_CONN_FAIL || r == R_SHUTDOWN;
}

/*
 * data_path - DATA, headers, EOH, body, end of message.  -1 on error,
 * 1 when the message ended early (a refusal), 0 at its end.
 */
static int
data_path(struct conn *c, struct stats *st, char *last)
{
	static const char *const hdr[][2] = {
	    {"From", NULL}, /* <the -f sender> */
	    {"To", "<user@example.com>"},
	    {"Subject", "miltload"},
	    {"Date", "Mon, 1 Jan 2024 00:00:00 +0000"},
	    {"Message-ID", "<miltload@example.org>"},
	};
	char r, from[260];
	long left;

	snprintf(from, sizeof(from), "<%s>", o.sender);
	if (!(c->proto & P_NODATA)) {
		macros(c, M_DATA);
		ob_begin(c, C_DATA);
		if ((r = step(c, st, S_DATA, P_NR_DATA)) == 0)
			return -1;
		if ((*last = r) != R_CONTINUE)
			return 1;
	}
	if (!(c->proto & P_NOHDRS)) {
		for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
			ob_begin(c, C_HEADER);
			ob_str(c, hdr[i][0]);
			if (c->proto & P_HDR_LEADSPC)
				ob_put(c, " ", 1);
			ob_str(c, hdr[i][1] != NULL ? hdr[i][1] : from);
			if ((r = step(c, st, S_HEADER, P_NR_HDR)) == 0)
				return -1;
			if ((*last = r) != R_CONTINUE)
				return 1;
		}
	}
	if (!(c->proto & P_NOEOH)) {
		macros(c, M_EOH);
		ob_begin(c, C_EOH);
		if ((r = step(c, st, S_EOH, P_NR_EOH)) == 0)
			return -1;
		if ((*last = r) != R_CONTINUE)
			return 1;
	}
	for (left = o.body; !(c->proto & P_NOBODY) && left > 0;) {
		size_t n = left > (long)BODY_CHUNK ? BODY_CHUNK : (size_t)left;

		ob_begin(c, C_BODY);
		ob_put(c, body, n);
		left -= (long)n;
		if ((r = step(c, st, S_BODY, P_NR_BODY)) == 0)
			return -1;
		if (r == R_SKIP)
			break;
		if ((*last = r) != R_CONTINUE)
			return 1;
	}
	macros(c, M_EOM);
	ob_begin(c, C_BODYEOB);
	if ((r = step(c, st, S_EOM, 0)) == 0)
		return -1;
	*last = r;
	return 0;
}

/*
 * session - one connection.  0 when it went through (whatever the
 * milter decided), -1 on error.
 */
static int
session(struct conn *c, struct stats *st)
{
	struct timespec t0, t1;
	struct timeval tv = {o.timeout, 0};
	char r = R_CONTINUE, buf[600];
	bool over = false, lost = false;
	int one = 1;

	now(&t0);
	if (!st->any) {
		st->first = t0;
		st->any = true;
	}
	c->olen = 0;
	c->err[0] = '\0';
	snprintf(c->port, sizeof(c->port), "%ld",
	         o.port ? o.port : 1024 + c->index % 64000);
	if ((c->fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) <
	    0) {
		fail(c, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (peer.ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&peer, peer_len) != 0) {
		fail(c, "connect: %s", strerror(errno));
		goto out;
	}
	st->sent[S_NEG]++;
	if (negotiate(c) != 0)
		goto out;
	now(&t1);
	st->replied[S_NEG]++;
	sample_add(&st->lat[S_NEG], ns_between(&t0, &t1));

	if (!(c->proto & P_NOCONNECT)) {
		macros(c, M_CONNECT);
		ob_begin(c, C_CONNECT);
		ob_str(c, o.client_name);
		ob_put(c, &client_family, 1);
		if (client_family != 'U') {
			uint16_t port = htons((uint16_t)atoi(c->port));

			ob_put(c, &port, 2);
			ob_str(c, o.client_addr);
		}
		if ((r = step(c, st, S_CONNECT, P_NR_CONN)) == 0)
			goto out;
		over = conn_over(r);
	}
	if (!over && !(c->proto & P_NOHELO)) {
		macros(c, M_HELO);
		ob_begin(c, C_HELO);
		ob_str(c, o.helo);
		if ((r = step(c, st, S_HELO, P_NR_HELO)) == 0)
			goto out;
		/* a refused HELO leaves the session open; an accept ends
		 * the milter's part */
		over = r == R_ACCEPT || conn_lost(r);
	}
	for (long m = 0; !over && m < o.messages; m++) {
		bool msg_done = false, any_rcpt = false;

		if (!(c->proto & P_NOMAIL)) {
			macros(c, M_ENVFROM);
			ob_begin(c, C_MAIL);
			snprintf(buf, sizeof(buf), "<%s>", o.sender);
			ob_str(c, buf);
			if ((r = step(c, st, S_MAIL, P_NR_MAIL)) == 0)
				goto out;
			if (conn_lost(r))
				break;
			if (r == R_REJECT || r == R_TEMPFAIL ||
			    r == R_REPLYCODE)
				continue; /* no transaction */
			msg_done = msg_over(r);
		}
		if (c->proto & P_NORCPT)
			any_rcpt = o.rcpts > 0;
		for (int k = 1;
		     !msg_done && !(c->proto & P_NORCPT) && k <= o.rcpts; k++) {
			c->rcpt_no = k;
			macros(c, M_ENVRCPT);
			ob_begin(c, C_RCPT);
			buf[0] = '<';
			rcpt_addr(k, buf + 1, sizeof(buf) - 2);
			strcat(buf, ">");
			ob_str(c, buf);
			if ((r = step(c, st, S_RCPT, P_NR_RCPT)) == 0)
				goto out;
			if (conn_lost(r)) {
				lost = true;
				break;
			}
			if (r == R_CONTINUE)
				any_rcpt = true;
			msg_done = r == R_ACCEPT || r == R_DISCARD;
		}
		if (lost)
			break;
		if (o.data && any_rcpt && !msg_done) {
			int d = data_path(c, st, &r);

			if (d < 0)
				goto out;
			if (conn_lost(r))
				break;
			if (d == 0)
				continue; /* a finished message: no abort */
		}
		ob_begin(c, C_ABORT);
		ob_end(c);
		st->sent[S_ABORT]++;
	}
	ob_begin(c, C_QUIT);
	ob_end(c);
	st->sent[S_QUIT]++;
	if (flush(c) != 0)
		goto out;
	if (!o.nowait) {
		ssize_t n;

		/* the milter closes after QUIT; anything else is wrong */
		while ((n = recv(c->fd, buf, sizeof(buf), 0)) < 0 &&
		       errno == EINTR)
			;
		if (n > 0)
			fail(c, "quit: the milter sent %zd bytes after QUIT",
			     n);
		else if (n < 0)
			fail(c, "quit: waiting for the close: %s",
			     errno == EAGAIN || errno == EWOULDBLOCK
			         ? "timed out"
			         : strerror(errno));
		if (n != 0)
			goto out;
	}
	close(c->fd);
	c->fd = -1;
	now(&t1);
	st->last = t1;
	sample_add(&st->lat[S_SESSION], ns_between(&t0, &t1));
	st->ok++;
	return 0;
out:
	close(c->fd);
	c->fd = -1;
	now(&t1);
	st->last = t1;
	st->errors++;
	if (c->err[0] == '\0')
		fail(c, "failed");
	record_error(c);
	return -1;
}

/* ------------------------------------------------------------------ */

static bool
time_left(void)
{
	struct timespec t;

	if (atomic_load(&stop_starting))
		return false;
	now(&t);
	if (ns_between(&run_start, &t) >= (uint64_t)o.limit * 1000000000) {
		atomic_store(&stop_starting, true);
		return false;
	}
	return true;
}

static void *
worker(void *arg)
{
	struct worker *w = arg;
	struct conn c;
	long i, total = o.warmup + o.sessions;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	c.in = w->inbuf;
	/* warm-up: same sessions, measured into w->junk */
	while ((i = atomic_fetch_add(&next_warmup, 1)) < o.warmup &&
	       time_left()) {
		c.index = i;
		session(&c, &w->junk);
	}
	pthread_barrier_wait(w->bar);
	while ((i = o.warmup + atomic_fetch_add(&next_session, 1)) < total &&
	       time_left()) {
		c.index = i;
		session(&c, &w->st);
	}
	free(c.out);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* pct - nearest-rank percentile of sorted v, in microseconds. */
static double
pct(const struct samples *s, double p)
{
	size_t r;

	if (s->n == 0)
		return 0;
	r = (size_t)(p * (double)s->n + 0.999999999);
	if (r < 1)
		r = 1;
	if (r > s->n)
		r = s->n;
	return s->v[r - 1] / 1000.0;
}

static void
merge(struct stats *all, const struct stats *st)
{
	for (int s = 0; s < S_N; s++) {
		const struct samples *from = &st->lat[s];
		struct samples *to = &all->lat[s];

		for (size_t i = 0; i < from->n; i++)
			sample_add(to, from->v[i]);
		all->sent[s] += st->sent[s];
		all->replied[s] += st->replied[s];
		for (int k = 0; k < K_N; k++)
			all->kind[s][k] += st->kind[s][k];
	}
	all->ok += st->ok;
	all->errors += st->errors;
	if (st->any) {
		if (!all->any || ns_between(&st->first, &all->first) > 0)
			all->first = st->first;
		if (!all->any || ns_between(&all->last, &st->last) > 0)
			all->last = st->last;
		all->any = true;
	}
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	struct stats all;
	pthread_barrier_t bar;
	double elapsed, rate, cpu0 = 0, cpu;
	FILE *out = stdout;
	int rc;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	memset(body, 'x', sizeof(body));
	if (o.outfile != NULL && (out = fopen(o.outfile, "w")) == NULL)
		die("%s: %s", o.outfile, strerror(errno));
	if ((w = calloc((size_t)o.concurrency, sizeof(*w))) == NULL)
		die("out of memory");
	if (pthread_barrier_init(&bar, NULL, (unsigned)o.concurrency + 1) != 0)
		die("pthread_barrier_init failed");
	now(&run_start);
	for (long i = 0; i < o.concurrency; i++) {
		w[i].bar = &bar;
		if ((w[i].inbuf = malloc(PKT_MAX + 1)) == NULL)
			die("out of memory");
		if ((rc = pthread_create(&w[i].th, NULL, worker, &w[i])) != 0)
			die("pthread_create: %s", strerror(rc));
	}
	pthread_barrier_wait(&bar);
	cpu0 = cpu_seconds();
	memset(&all, 0, sizeof(all));
	for (long i = 0; i < o.concurrency; i++) {
		pthread_join(w[i].th, NULL);
		merge(&all, &w[i].st);
	}
	cpu = cpu_seconds() - cpu0;
	elapsed = all.any ? ns_between(&all.first, &all.last) / 1e9 : 0;
	rate = elapsed > 0 ? all.ok / elapsed : 0;
	fprintf(out, "label\tstep\tsent\treplied\tp50_us\tp99_us\tmax_us"
	             "\tcontinue\taccept\treject\ttempfail\treplycode\tother"
	             "\tsessions\terrors\telapsed_s\tsessions_per_s\tcpu_s\n");
	for (int s = 0; s < S_N; s++) {
		struct samples *v = &all.lat[s];

		/* the usual steps always, the others when they happened */
		if (all.sent[s] == 0 && s != S_SESSION && s > S_RCPT)
			continue;
		if (s == S_SESSION)
			all.sent[s] = all.replied[s] = all.ok;
		if (v->n > 1)
			qsort(v->v, v->n, sizeof(v->v[0]), cmp_u32);
		fprintf(out, "%s\t%s\t%lu\t%lu\t", o.label, step_name[s],
		        all.sent[s], all.replied[s]);
		if (v->n > 0)
			fprintf(out, "%.1f\t%.1f\t%.1f", pct(v, 0.50),
			        pct(v, 0.99), v->v[v->n - 1] / 1000.0);
		else
			fputs("-\t-\t-", out);
		for (int k = 0; k < K_N; k++)
			fprintf(out, "\t%lu", all.kind[s][k]);
		fprintf(out, "\t%lu\t%lu\t%.3f\t%.1f\t%.3f\n", all.ok,
		        all.errors, elapsed, rate, cpu);
	}
	if (out != stdout && fclose(out) != 0)
		die("%s: %s", o.outfile, strerror(errno));
	if (o.negfile != NULL)
		neg_write(o.negfile);
	fprintf(stderr,
	        "miltload: %lu sessions in %.3f s: %.1f sessions/s, %lu "
	        "errors, client cpu %.3f s\n",
	        all.ok, elapsed, rate, all.errors, cpu);
	if (atomic_load(&stop_starting))
		fprintf(stderr,
		        "miltload: stopped starting sessions after "
		        "-L %ld s\n",
		        o.limit);
	for (int i = 0; i < nerrmsgs; i++)
		fprintf(stderr, "miltload: %s\n", errmsgs[i]);
	if (!o.verbose && all.errors > (unsigned long)nerrmsgs &&
	    nerrmsgs == MAX_ERRMSGS)
		fprintf(stderr, "miltload: (%lu more errors; -v shows all)\n",
		        all.errors - (unsigned long)nerrmsgs);
	for (int i = 0; i < nerrmsgs; i++)
		free(errmsgs[i]);
	for (long i = 0; i < o.concurrency; i++) {
		for (int s = 0; s < S_N; s++) {
			free(w[i].st.lat[s].v);
			free(w[i].junk.lat[s].v);
		}
		free(w[i].inbuf);
	}
	for (int s = 0; s < S_N; s++)
		free(all.lat[s].v);
	free(w);
	pthread_barrier_destroy(&bar);
	return all.errors > 0 ? 1 : 0;
}
