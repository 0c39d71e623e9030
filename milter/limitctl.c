/*
 * limitctl.c - the limits' counters and locks over the control socket
 * (limitctl.h): the daemon's side, then "relaymilter limits".
 */
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relaymilter/conf.h"
#include "relaymilter/limitctl.h"
#include "relaymilter/log.h"
#include "relaymilter/monitor.h"
#include "relaymilter/rm.h"

static uint64_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static void
row(void *arg, const struct rm_limit_row *r)
{
	char per[32];

	rm_mxbuf_printf(arg, "%s %s messages=%lu recipients=%lu per=%s",
	                r->lr_limit, r->lr_key, r->lr_count[RM_WC_MSGS],
	                r->lr_count[RM_WC_RCPTS],
	                rm_duration_format(r->lr_per, per, sizeof(per)));
	if (r->lr_lock_left > 0)
		rm_mxbuf_printf(arg, " locked=%llus",
		                (unsigned long long)r->lr_lock_left);
	rm_mxbuf_printf(arg, "\n");
}

void
rm_limitctl_answer(struct rm_runtime *rt, const char *req, struct rm_mxbuf *out)
{
	struct rm_limit_store *st = rt->rt_limits;
	char limit[128], lb[160], kb[RM_LIMIT_KEY_MAX];
	const char *key;
	size_t n;

	if (strcmp(req, "limits") == 0 || strncmp(req, "limits ", 7) == 0) {
		key = req[6] == ' ' && req[7] != '\0' ? req + 7 : NULL;
		st->ls_list(st, key, now_mono(), row, out);
		return;
	}
	if (strncmp(req, "lift ", 5) == 0 &&
	    (key = strchr(req + 5, ' ')) != NULL &&
	    (size_t)(key - req - 5) < sizeof(limit) && key[1] != '\0') {
		memcpy(limit, req + 5, (size_t)(key - req - 5));
		limit[key - req - 5] = '\0';
		key++;
		n = st->ls_lift(st, strcmp(limit, "*") == 0 ? NULL : limit,
		                key);
		rm_log(RM_LOG_WARNING,
		       "limits: %s of %s lifted on request (%zu entries)",
		       rm_log_sanitize(limit, lb, sizeof(lb)),
		       rm_log_sanitize(key, kb, sizeof(kb)), n);
		rm_mxbuf_printf(out, "lifted %zu\n", n);
		return;
	}
	rm_mxbuf_printf(out, "error: unknown request\n");
}

static void
limits_usage(FILE *fp)
{
	fprintf(fp, "usage: relaymilter limits [-c CONFIG] [--key KEY]\n"
	            "       relaymilter limits [-c CONFIG] --lift LIMIT:KEY\n"
	            "  --key KEY         the counters and locks of one key "
	            "(default: all)\n"
	            "  --lift LIMIT:KEY  unlock the key and empty its "
	            "windows (LIMIT *: every limit)\n");
}

int
rm_limits_main(int argc, char **argv)
{
	static const char *const names[] = {"key", "lift"};
	const char *config = RM_CONF_DEFAULT, *vals[2] = {NULL, NULL};
	const char *key, *lift;
	char req[RM_CONTROL_MAX_REQUEST];
	int rc;

	if ((rc = rm_control_opts(argc, argv, names, 2, vals, &config,
	                          limits_usage)) >= 0)
		return rc;
	key = vals[0];
	lift = vals[1];
	if (optind != argc || (key != NULL && lift != NULL) ||
	    (lift != NULL && strchr(lift, ':') == NULL)) {
		limits_usage(stderr);
		return RM_EX_USAGE;
	}
	if (lift != NULL)
		snprintf(req, sizeof(req), "lift %.*s %s\n",
		         (int)(strchr(lift, ':') - lift), lift,
		         strchr(lift, ':') + 1);
	else
		snprintf(req, sizeof(req), "limits%s%s\n", key ? " " : "",
		         key ? key : "");
	return rm_control_print("limits", config, req, "lifted 0\n");
}
