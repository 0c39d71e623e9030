/*
 * confread.h - what the config reader's parts share (conf.c, confldap.c,
 * conflimits.c):
 * the reading context and its "file:line: message" errors.  Only they
 * include <libconfig.h>; nothing else includes this header.
 */
#ifndef RM_CONFREAD_H
#define RM_CONFREAD_H

#include <libconfig.h>

#include "relaymilter/confdata.h"
#include "relaymilter/log.h"

struct conf_ctx {
	const char *cx_path;
	struct rm_conf *cx_conf;
	char *cx_err;
	size_t cx_errlen;
	struct rm_confprofile *cx_profile; /* the one being read */
	const char *cx_listener;           /* inside listeners.NAME, or NULL */
};

/* conf_error - "file:line: message" into the context's buffer; -1. */
int conf_error(struct conf_ctx *, const config_setting_t *, const char *fmt,
               ...) RM_PRINTFLIKE(3, 4);

/* conf_where - the setting, or its closest parent with a line. */
const config_setting_t *conf_where(const config_setting_t *);

/* conf_ldap - the ldap = { ... } group into the settings (confldap.c). */
int conf_ldap(struct conf_ctx *, const config_setting_t *);

/*
 * conf_limits, conf_max_recipients - limits = ( ... ) and max_recipients
 * of the profile being read (conflimits.c).
 */
int conf_limits(struct conf_ctx *, const config_setting_t *);
int conf_max_recipients(struct conf_ctx *, const config_setting_t *);

#endif
