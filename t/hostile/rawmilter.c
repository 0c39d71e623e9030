/*
 * rawmilter.c - a raw milter client (the MTA side) that sends whatever bytes
 * it is told to, for t/hostile/run.sh.
 *
 *   rawmilter SOCKET seq STEP...   one hostile connection, with a well-formed
 *                                  session open on a second connection
 *   rawmilter SOCKET loop N        N messages (MAIL, RCPT, ABORT) on one
 *                                  connection, in lock step
 *   rawmilter SOCKET rcpts N       one message with N recipients
 *   rawmilter SOCKET churn N       N connections dropped mid-negotiation
 *
 * seq sends every STEP, half-closes the connection and reads the replies
 * until the milter closes it, so what it prints does not depend on timing:
 *   hostile: O c y550 EOF          (O: negotiation reply, c: continue,
 *                                   yNNN: reply code, EOF: closed)
 *   probe: y550 c                  (the other session's RCPT replies: an
 *                                   untrusted relay, then a local domain)
 * A STEP is one of
 *   opt            protocol 6, every action, every protocol step offered
 *   opt=V,A,P      option negotiation with these three numbers
 *   conn=IP        CONNECT from IP (IPv4 or IPv6; "unspec": no address)
 *   helo=S  mail=S  rcpt=S          the argument S and a NUL
 *   pkt=C:DATA     a packet of command C and DATA (no NUL added)
 *   len=N:C:DATA   length field N (any base), then C and DATA as given
 *   raw=DATA       DATA as given
 *   garbage=N      N pseudo-random bytes (fixed seed)
 * In S, C and DATA: \xHH is a byte, \0 a NUL, {X*N} X repeated N times.
 * loop, rcpts and churn print one summary line; every mode exits 0 when it
 * could talk to the milter and saw what it expected, 1 otherwise, 2 on a
 * usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS   30000 /* a reply later than this is a hang */
#define MAX_REPLY (1024 * 1024)

struct buf {
	unsigned char *b;
	size_t len, cap;
};

static const char *sock_path;

static void
die(const char *what)
{
	fprintf(stderr, "rawmilter: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		if ((b->b = realloc(b->b, cap)) == NULL)
			die("realloc");
		b->cap = cap;
	}
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void
put32(struct buf *b, uint32_t v)
{
	v = htonl(v);
	put(b, &v, 4);
}

/* expand - decode \xHH, \0 and {X*N} in s, appending to b */
static void
expand(struct buf *b, const char *s)
{
	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;
		char *end;

		if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = {s[2], s[3], 0};

			c = (unsigned char)strtoul(hex, NULL, 16);
			s += 4;
		} else if (s[0] == '\\' && s[1] == '0') {
			c = 0;
			s += 2;
		} else if (s[0] == '{' && s[1] && s[2] == '*') {
			unsigned long n = strtoul(s + 3, &end, 10);

			if (*end == '}') {
				while (n-- > 0)
					put(b, s + 1, 1);
				s = end + 1;
				continue;
			}
			s++;
		} else {
			s++;
		}
		put(b, &c, 1);
	}
}

/* packet - a well-formed packet: length, command, data */
static void
packet(struct buf *b, char cmd, const void *data, size_t n)
{
	put32(b, (uint32_t)(n + 1));
	put(b, &cmd, 1);
	put(b, data, n);
}

static void
packet_str(struct buf *b, char cmd, const char *s)
{
	struct buf d = {0};

	expand(&d, s);
	put(&d, "", 1);
	packet(b, cmd, d.b, d.len);
	free(d.b);
}

static void
opt(struct buf *b, uint32_t v, uint32_t a, uint32_t p)
{
	uint32_t w[3] = {htonl(v), htonl(a), htonl(p)};

	packet(b, 'O', w, sizeof(w));
}

static void
conn(struct buf *b, const char *ip)
{
	struct buf d = {0};
	uint16_t port = htons(2525);

	put(&d, "client.test", 12);
	if (strcmp(ip, "unspec") == 0) {
		put(&d, "U", 1);
	} else {
		put(&d, strchr(ip, ':') ? "6" : "4", 1);
		put(&d, &port, 2);
		put(&d, ip, strlen(ip) + 1);
	}
	packet(b, 'C', d.b, d.len);
	free(d.b);
}

/* step - append the bytes of one STEP; -1 if it does not parse */
static int
step(struct buf *b, const char *arg)
{
	const char *v = strchr(arg, '=');
	size_t k = v ? (size_t)(v - arg) : strlen(arg);
	struct buf d = {0};

	v = v ? v + 1 : "";
	if (strncmp(arg, "opt", k) == 0 && k == 3) {
		unsigned long x[3] = {6, 0x1ff, 0x1fffff};

		if (*v && sscanf(v, "%li,%li,%li", (long *)&x[0], (long *)&x[1],
		                 (long *)&x[2]) != 3)
			return -1;
		opt(b, (uint32_t)x[0], (uint32_t)x[1], (uint32_t)x[2]);
	} else if (strncmp(arg, "conn", k) == 0 && k == 4) {
		conn(b, v);
	} else if (k == 4 && strncmp(arg, "helo", 4) == 0) {
		packet_str(b, 'H', v);
	} else if (k == 4 && strncmp(arg, "mail", 4) == 0) {
		packet_str(b, 'M', v);
	} else if (k == 4 && strncmp(arg, "rcpt", 4) == 0) {
		packet_str(b, 'R', v);
	} else if (k == 3 && strncmp(arg, "pkt", 3) == 0) {
		/* the command byte may be written \xHH too */
		const char *colon = v[0] ? strchr(v + 1, ':') : NULL;
		char cmd[8] = {0};

		if (colon == NULL || colon - v > 4)
			return -1;
		memcpy(cmd, v, (size_t)(colon - v));
		expand(&d, cmd);
		expand(&d, colon + 1);
		packet(b, (char)d.b[0], d.b + 1, d.len - 1);
	} else if (k == 3 && strncmp(arg, "len", 3) == 0) {
		char *end;
		unsigned long n = strtoul(v, &end, 0);

		if (*end != ':' || end[1] == '\0')
			return -1;
		put32(b, (uint32_t)n);
		expand(b, end + 1);
	} else if (k == 3 && strncmp(arg, "raw", 3) == 0) {
		expand(b, v);
	} else if (k == 7 && strncmp(arg, "garbage", 7) == 0) {
		unsigned long n = strtoul(v, NULL, 10);
		uint32_t x = 2463534242u;

		while (n-- > 0) {
			unsigned char c;

			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			c = (unsigned char)x;
			put(b, &c, 1);
		}
	} else {
		return -1;
	}
	free(d.b);
	return 0;
}

static int
connect_milter(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		die(sock_path);
	}
	strcpy(sun.sun_path, sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die(sock_path);
	return fd;
}

/* send_all - write b; false when the milter closed the connection */
static int
send_all(int fd, const struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->b + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		off += (size_t)n;
	}
	return 1;
}

/* read_n - 1: got n bytes; 0: EOF; -1: error (reset); -2: timeout */
static int
read_n(int fd, unsigned char *p, size_t n)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	while (n > 0) {
		ssize_t r;
		int pr = poll(&pfd, 1, WAIT_MS);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return -2;
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/*
 * reply - read one reply into word ("c", "y550", "O", "EOF", "TIMEOUT",
 * "BADLEN"); returns 1 for a reply, 0 when the connection ended.
 */
static int
reply(int fd, char *word, size_t size)
{
	unsigned char h[4], *body;
	uint32_t len;
	int r = read_n(fd, h, 4);

	if (r == 1) {
		memcpy(&len, h, 4);
		len = ntohl(len);
		if (len == 0 || len > MAX_REPLY) {
			snprintf(word, size, "BADLEN");
			return 0;
		}
		if ((body = malloc(len + 1)) == NULL)
			die("malloc");
		r = read_n(fd, body, len);
		if (r == 1) {
			body[len] = '\0';
			if (body[0] == 'y' && len >= 4)
				snprintf(word, size, "y%.3s", body + 1);
			else
				snprintf(word, size, "%c", body[0]);
		}
		free(body);
		if (r == 1)
			return 1;
	}
	/* a reset only says some of our bytes were left unread: closed */
	snprintf(word, size, "%s", r == -2 ? "TIMEOUT" : "EOF");
	return 0;
}

/* ask - send b, read one reply into word; 0 when the connection ended */
static int
ask(int fd, struct buf *b, char *word, size_t size)
{
	int ok = send_all(fd, b);

	b->len = 0;
	if (!ok) {
		snprintf(word, size, "EPIPE");
		return 0;
	}
	return reply(fd, word, size);
}

/* session - negotiate, CONNECT from ip, HELO; fd, or -1 (printed) */
static int
session(const char *ip, const char *who)
{
	struct buf b = {0};
	char w[16];
	int fd = connect_milter();

	opt(&b, 6, 0x1ff, 0x1fffff);
	if (!ask(fd, &b, w, sizeof(w)) || strcmp(w, "O") != 0) {
		printf("%s: negotiation: %s\n", who, w);
		close(fd);
		free(b.b);
		return -1;
	}
	/* CONNECT and HELO get no reply: negotiated away */
	conn(&b, ip);
	packet_str(&b, 'H', "client.test");
	if (!send_all(fd, &b)) {
		printf("%s: connection closed at CONNECT\n", who);
		close(fd);
		fd = -1;
	}
	free(b.b);
	return fd;
}

/* expect - send b, want the reply want; prints and returns 0 if not */
static int
expect(int fd, struct buf *b, const char *want, const char *what)
{
	char w[16];

	ask(fd, b, w, sizeof(w));
	if (strcmp(w, want) == 0)
		return 1;
	printf("%s: want %s, got %s\n", what, want, w);
	return 0;
}

static int
cmd_seq(int argc, char **argv)
{
	struct buf b = {0};
	char w[16];
	int fd, probe, i, ok = 1;

	/* the bystander: a session in the middle of a message */
	if ((probe = session("203.0.113.9", "probe")) < 0)
		return 1;
	packet_str(&b, 'M', "<a@sender.test>");
	if (!expect(probe, &b, "c", "probe MAIL"))
		return 1;

	for (i = 0; i < argc; i++)
		if (step(&b, argv[i]) != 0) {
			fprintf(stderr, "rawmilter: bad step \"%s\"\n",
			        argv[i]);
			return 2;
		}
	fd = connect_milter();
	send_all(fd, &b); /* may stop early: the milter hung up */
	b.len = 0;
	shutdown(fd, SHUT_WR);
	printf("hostile:");
	while (reply(fd, w, sizeof(w)))
		printf(" %s", w);
	printf(" %s\n", w);
	close(fd);

	printf("probe:");
	packet_str(&b, 'R', "<u@remote.test>");
	ok = ask(probe, &b, w, sizeof(w));
	printf(" %s", w);
	if (ok) {
		packet_str(&b, 'R', "<u@example.com>");
		ask(probe, &b, w, sizeof(w));
		printf(" %s", w);
	}
	printf("\n");
	packet(&b, 'Q', NULL, 0);
	send_all(probe, &b);
	close(probe);
	free(b.b);
	return 0;
}

static int
cmd_loop(unsigned long n)
{
	struct buf b = {0};
	unsigned long i, rejected = 0;
	int fd = session("203.0.113.9", "loop");

	if (fd < 0)
		return 1;
	for (i = 0; i < n; i++) {
		packet_str(&b, 'M', "<a@sender.test>");
		if (!expect(fd, &b, "c", "loop MAIL"))
			break;
		packet_str(&b, 'R', "<u@remote.test>");
		if (!expect(fd, &b, "y550", "loop RCPT"))
			break;
		rejected++;
		packet(&b, 'A', NULL, 0);
		if (!send_all(fd, &b))
			break;
		b.len = 0;
	}
	packet(&b, 'Q', NULL, 0);
	send_all(fd, &b);
	close(fd);
	free(b.b);
	printf("loop: %lu messages, %lu relays rejected\n", i, rejected);
	return i == n && rejected == n ? 0 : 1;
}

static int
cmd_rcpts(unsigned long n)
{
	struct buf b = {0};
	unsigned long i, rej = 0, local = 0;
	int fd = session("203.0.113.9", "rcpts");

	if (fd < 0)
		return 1;
	packet_str(&b, 'M', "<a@sender.test>");
	if (!expect(fd, &b, "c", "rcpts MAIL"))
		return 1;
	for (i = 0; i < n; i++) {
		char rcpt[64];
		int is_local = i % 10 == 9;

		snprintf(rcpt, sizeof(rcpt), "<u%lu@%s>", i,
		         is_local ? "example.com" : "remote.test");
		packet_str(&b, 'R', rcpt);
		if (!expect(fd, &b, is_local ? "c" : "y550", rcpt))
			break;
		if (is_local)
			local++;
		else
			rej++;
	}
	packet(&b, 'Q', NULL, 0);
	send_all(fd, &b);
	close(fd);
	free(b.b);
	printf("rcpts: %lu answered, %lu relays rejected, %lu local "
	       "continued\n",
	       i, rej, local);
	return i == n ? 0 : 1;
}

/*
 * churn - n connections, at most 25 open at once, each dropped at a
 * different point: at once, inside the first header, after the
 * negotiation request, after its reply, after CONNECT and HELO, inside
 * a message.
 */
static int
cmd_churn(unsigned long n)
{
	enum { BATCH = 25 };
	int fds[BATCH];
	unsigned long i = 0, done = 0;

	while (i < n) {
		int k, m = 0;

		for (; m < BATCH && i < n; m++, i++) {
			struct buf b = {0};
			char w[16];
			int fd = connect_milter();

			switch (i % 6) {
			case 1:
				put(&b, "\0\0", 2);
				break;
			case 2:
				opt(&b, 6, 0x1ff, 0x1fffff);
				break;
			case 3:
				opt(&b, 6, 0x1ff, 0x1fffff);
				ask(fd, &b, w, sizeof(w));
				break;
			case 4:
			case 5:
				opt(&b, 6, 0x1ff, 0x1fffff);
				ask(fd, &b, w, sizeof(w));
				conn(&b, "203.0.113.9");
				packet_str(&b, 'H', "client.test");
				if (i % 6 == 5)
					packet_str(&b, 'M', "<a@sender.test>");
				break;
			}
			send_all(fd, &b);
			free(b.b);
			fds[m] = fd;
		}
		for (k = 0; k < m; k++)
			close(fds[k]);
		done += (unsigned long)m;
	}
	printf("churn: %lu connections dropped\n", done);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: rawmilter SOCKET seq STEP... | loop N "
		                "| rcpts N | churn N\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock_path = argv[1];
	if (strncmp(sock_path, "unix:", 5) == 0)
		sock_path += 5;
	if (strcmp(argv[2], "seq") == 0)
		return cmd_seq(argc - 3, argv + 3);
	if (argc == 4)
		n = strtoul(argv[3], NULL, 10);
	if (strcmp(argv[2], "loop") == 0 && n > 0)
		return cmd_loop(n);
	if (strcmp(argv[2], "rcpts") == 0 && n > 0)
		return cmd_rcpts(n);
	if (strcmp(argv[2], "churn") == 0 && n > 0)
		return cmd_churn(n);
	fprintf(stderr, "rawmilter: bad mode or count\n");
	return 2;
}
