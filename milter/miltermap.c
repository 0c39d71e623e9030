/*
 * miltermap.c - the smtpd_milter_maps table (miltermap.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relaymilter/miltermap.h"
#include "relaymilter/policy.h"

struct map_ctx {
	const struct rm_ruleset *mc_rs;
	bool mc_owner_lookups;
	FILE *mc_fp;
	size_t mc_n;
};

/* cidr_text - "192.0.2.0/24", "2001:db8::/32" */
static void
cidr_text(const struct rm_cidr *c, char *buf, size_t len)
{
	char ip[64];
	unsigned bits = rm_ip_is_v4(&c->c_addr) ? c->c_len - 96 : c->c_len;

	snprintf(buf, len, "%s/%u", rm_ip_format(&c->c_addr, ip, sizeof(ip)),
	         bits);
}

static void
one(void *arg, const struct rm_cidr *c, const void *tag)
{
	struct map_ctx *mc = arg;
	const struct rm_entry *e = tag;
	char net[80], lb[RM_LINE_BUF];
	const char *why;

	cidr_text(c, net, sizeof(net));
	if (rm_policy_always_continues(mc->mc_rs, c, mc->mc_owner_lookups,
	                               &why)) {
		fprintf(mc->mc_fp,
		        "%-40s DISABLE\n# ^ trusted_networks \"%s\" (%s%s): "
		        "relaymilter always continues for it\n",
		        net, e->e_text, e->e_where, rm_entry_line(e, lb));
		mc->mc_n++;
	} else
		fprintf(mc->mc_fp, "# %s: not here: %s\n", net, why);
}

size_t
rm_milter_map_print(const struct rm_ruleset *rs, bool owner_lookups, FILE *fp)
{
	struct map_ctx mc = {rs, owner_lookups, fp, 0};

	fprintf(fp,
	        "# Postfix smtpd_milter_maps (cidr): the trusted networks "
	        "for which\n# relaymilter always continues, written by "
	        "relaymilter from %s.\n",
	        rs->rs_source);
	rm_ipset_each(rs->rs_lists.l_trusted, one, &mc);
	if (mc.mc_n == 0)
		fprintf(fp, "# (none: every session needs relaymilter)\n");
	return mc.mc_n;
}

int
rm_milter_map_write(const struct rm_ruleset *rs, bool owner_lookups,
                    const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	FILE *fp;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	        (int)sizeof(tmp) ||
	    (fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	rm_milter_map_print(rs, owner_lookups, fp);
	if (fchmod(fileno(fp), 0644) != 0 || fflush(fp) != 0 ||
	    fclose(fp) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
