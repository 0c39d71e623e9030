/*
 * nodelay.c - an LD_PRELOAD module for the Postfix daemons of
 * contrib/bench/postfix.sh (NODELAY=1): a TCP connection to 127.0.0.1 port
 * $RM_NODELAY_PORT gets TCP_NODELAY, as Postfix's milter client would set
 * it on its socket.  It measures that Postfix-side change without
 * rebuilding Postfix; it changes nothing else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef int connect_fn(int, const struct sockaddr *, socklen_t);

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn *real;
	const char *port = getenv("RM_NODELAY_PORT");
	int one = 1;

	if (real == NULL &&
	    (real = (connect_fn *)dlsym(RTLD_NEXT, "connect")) == NULL)
		abort();
	if (port != NULL && sa != NULL && sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in) &&
	    ((const struct sockaddr_in *)(const void *)sa)->sin_port ==
	        htons((unsigned short)atoi(port)))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof(one));
	return real(fd, sa, len);
}
