/*
 * emptymilter.c - the floor libmilter allows for relaymilter's protocol:
 * a filter that negotiates exactly what milter/mlfi.c negotiates and does
 * nothing else.
 *
 * Mirrored from mlfi.c (keep them in step):
 *   - the same callbacks are registered (connect, helo, envfrom, envrcpt,
 *     data, header, eoh, abort, close, negotiate), xxfi_flags 0, so
 *     libmilter's own view of the filter is the same;
 *   - mlfi_negotiate's answer: refuse an MTA without SMFIP_NR_CONN and
 *     SMFIP_NR_HELO, ask for SMFIP_NR_CONN | SMFIP_NR_HELO plus whichever
 *     of SMFIP_NOHDRS, NOBODY, NOEOH, NODATA, NOUNKNOWN are offered, no
 *     actions but SMFIF_SETSYMLIST, and the same three macro lists;
 *   - with -h, what it answers when checks.header_from is on somewhere:
 *     the headers and the end of headers kept (SMFIP_NOHDRS and NOEOH not
 *     asked for), SMFIP_NR_HDR when offered, an answer at end of headers;
 *   - connect and HELO return SMFIS_NOREPLY, as they must once
 *     negotiated to "no reply" (a SMFIS_CONTINUE there makes libmilter
 *     log "milter claimed not to reply ... but did anyway" on every
 *     session, which would not be a floor); every other callback returns
 *     SMFIS_CONTINUE.
 * No session state, no macros read, no logging.
 *
 * usage: emptymilter [-hr] -p unix:/path | inet:PORT@HOST
 *   -h  negotiate the headers as relaymilter with checks.header_from on:
 *       the floor of that negotiation
 *   -r  refuse every RCPT with "550 5.7.1 Relaying denied" (set as a reply
 *       text, as relaymilter does): the floor of sessions refused at RCPT
 * Over an inet socket it takes the DATA step and answers it, as relaymilter
 * does with answer_data = "auto".
 * Build: cc -O2 -pthread -o emptymilter emptymilter.c -lmilter
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NO_STEPS                                                               \
	(SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NODATA |            \
	 SMFIP_NOUNKNOWN)
#define NO_REPLY (SMFIP_NR_CONN | SMFIP_NR_HELO)

/* set once in main() before libmilter starts its threads */
static int refuse_rcpt; /* -r */
static int headers;     /* -h */
static int nr_hdr;      /* -h, and the MTA offered SMFIP_NR_HDR */
static int answer_data; /* an inet socket */

static sfsistat
e_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
            unsigned long f3, unsigned long *pf0, unsigned long *pf1,
            unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	if ((f1 & NO_REPLY) != NO_REPLY)
		return SMFIS_REJECT;
	*pf0 = 0;
	*pf1 = NO_REPLY | (NO_STEPS & f1);
	if (answer_data)
		*pf1 &= ~(unsigned long)SMFIP_NODATA;
	if (headers) {
		*pf1 &= ~(unsigned long)(SMFIP_NOHDRS | SMFIP_NOEOH);
		/* every connection is offered the same: no race worth a lock */
		nr_hdr = (f1 & SMFIP_NR_HDR) != 0;
		if (nr_hdr)
			*pf1 |= SMFIP_NR_HDR;
	}
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		/* failures ignored, as mlfi.c does (it only logs them) */
		(void)smfi_setsymlist(ctx, SMFIM_CONNECT,
		                      "j _ {daemon_name} {daemon_addr} "
		                      "{if_addr} {client_name}");
		(void)smfi_setsymlist(
		    ctx, SMFIM_ENVFROM,
		    "i {auth_authen} {auth_type} {mail_addr}");
		(void)smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		                      "i {rcpt_addr} {rcpt_host} {rcpt_mailer} "
		                      "{auth_authen}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
e_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_NOREPLY;
}

static sfsistat
e_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return SMFIS_NOREPLY;
}

static sfsistat
e_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
e_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	if (!refuse_rcpt)
		return SMFIS_CONTINUE;
	smfi_setreply(ctx, "550", "5.7.1", "Relaying denied");
	return SMFIS_REJECT;
}

static sfsistat
e_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
e_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
e_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
e_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
e_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "emptymilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_connect = e_connect,
    .xxfi_helo = e_helo,
    .xxfi_envfrom = e_envfrom,
    .xxfi_envrcpt = e_envrcpt,
    .xxfi_data = e_data,
    .xxfi_header = e_header,
    .xxfi_eoh = e_eoh,
    .xxfi_abort = e_abort,
    .xxfi_close = e_close,
    .xxfi_negotiate = e_negotiate,
};

int
main(int argc, char **argv)
{
	const char *spec = NULL;
	sigset_t set;
	mode_t mask;
	int c;

	while ((c = getopt(argc, argv, "hp:r")) != -1) {
		if (c == 'h' || c == 'r') {
			*(c == 'h' ? &headers : &refuse_rcpt) = 1;
			continue;
		}
		if (c != 'p') {
			fprintf(stderr, "usage: emptymilter [-hr] -p SOCKET\n");
			return 64;
		}
		spec = optarg;
	}
	if (spec == NULL || optind != argc) {
		fprintf(stderr, "usage: emptymilter [-hr] -p SOCKET\n");
		return 64;
	}
	answer_data = strncmp(spec, "inet", 4) == 0;
	/* as relaymilter's main.c: libmilter's signal thread takes these */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	mask = umask(0177);
	if (smfi_setconn((char *)spec) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "emptymilter: cannot listen on %s\n", spec);
		return 71;
	}
	umask(mask);
	return smfi_main() == MI_SUCCESS ? 0 : 71;
}
