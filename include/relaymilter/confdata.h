/*
 * confdata.h - a config file as read: plain data, no libconfig.
 *
 * The reader (conf.c, confldap.c) fills it from the file and checks every
 * key, type and value it can check alone; the compiler (compile.c) turns
 * it, with the entries from elsewhere (LDAP), into a ruleset, validating
 * every list entry on the way ("file:line: list: "value": why").  The
 * daemon's own settings (socket, pid file, log level, LDAP) stay here and
 * never reach the ruleset.
 */
#ifndef RM_CONFDATA_H
#define RM_CONFDATA_H

#include <stddef.h>
#include <stdint.h>

#include "relaymilter/reply.h"
#include "relaymilter/ruleset.h"

struct rm_ldap_conf;

/* One entry of grants.follow = ( ... ): a log file to grant from. */
struct rm_follow_conf {
	char *fc_file;    /* absolute */
	int fc_format;    /* enum rm_follow_format */
	char *fc_pattern; /* custom: the pattern, else NULL */
	char *fc_program; /* dovecot: the syslog tag, or NULL: "dovecot" */
};

/* The daemon's settings: where it listens and logs, where LDAP is. */
struct rm_settings {
	char *st_socket;         /* "socket", or NULL */
	int st_socket_mode;      /* "socket_mode" (0-0777), or -1: not set */
	char *st_socket_group;   /* "socket_group" (name or number), or NULL */
	char *st_pid_file;       /* "pid_file", or NULL */
	int st_log_level;        /* enum rm_log_level, or -1: not set */
	char *st_log_file;       /* "log_file", or NULL: syslog */
	int st_log_facility;     /* a syslog facility, or -1: mail */
	int st_log_json;         /* log_format = "json" */
	int st_answer_data;      /* answer_data: 1 yes, 0 no, -1 auto */
	char *st_milter_map;     /* "milter_map": where to write the
	                            smtpd_milter_maps table, or NULL */
	char *st_metrics;        /* "metrics": inet:PORT@ADDR, or NULL */
	char *st_control_socket; /* "control_socket", or NULL: default */
	char *st_control_socket_group;    /* "control_socket_group": the socket
	                                     is 0660 in it; NULL: 0600 */
	struct rm_ldap_conf *st_ldap;     /* the "ldap" group, or NULL */
	char *st_store;                   /* "store", or NULL: memory */
	unsigned st_store_timeout_ms;     /* "store_timeout", or 0: 1 s */
	int st_store_down;                /* enum rm_store_down, or -1 */
	unsigned st_grant_ttl;            /* grants.ttl in seconds, or 0: 30m */
	int st_grants_trusted;            /* grants.trusted */
	int st_grants_on;                 /* a grants group, or grants = true */
	struct rm_follow_conf *st_follow; /* grants.follow, st_nfollow */
	size_t st_nfollow;
};

/* One list entry as written, or one of our_addresses (op_list < 0). */
#define RM_OP_OUR_ADDRESS (-1)
struct rm_confop {
	int op_list;             /* enum rm_list_id, or RM_OP_OUR_ADDRESS */
	unsigned op_lifts;       /* exceptions: RM_LIFT() bits; 0 = all */
	unsigned op_line;        /* its line in op_file */
	const char *op_file;     /* the file (an @include'd one, maybe) */
	const char *op_value;    /* the pattern */
	const char *op_owner;    /* sender_logins: the login, or NULL */
	const char *op_listener; /* listeners.NAME, or NULL */
	const char *op_reply;    /* deny: its own reply, or NULL */
};

/*
 * A profile as written: -1 where the file does not say, so a listener can
 * inherit from the top level whatever the order of the keys in the file.
 */
struct rm_confprofile {
	char *cp_name;   /* NULL: the top level */
	char *cp_origin; /* "file:line" */
	int cp_mode;     /* 0 enforce, 1 monitor */
	int cp_require_auth;
	int cp_check[RM_CK__COUNT];
	int cp_has_limits;  /* limits = ( ... ) given: cp_limits replaces
	                       the top level's */
	uint32_t cp_limits; /* bit i: cf_limits[i] */
	long cp_max_rcpts;  /* max_recipients, or -1: not set */
	int cp_auth_relay;  /* auth_relay, or -1: not set */
	/* replies = { }: valid where cp_reply_set; a listener's override
	   the top level's, key by key */
	struct rm_reply cp_replies[RM_R__COUNT];
	unsigned char cp_reply_set[RM_R__COUNT];
	int cp_grants;  /* grants: 1 on, 0 off, -1 not set */
	int cp_hdr_all; /* header_from_sessions: 1 all, 0 authenticated,
	                   -1 not set */
};

struct rm_strblock;

struct rm_conf {
	char *cf_path;
	struct rm_settings cf_settings;
	struct rm_confprofile cf_top;
	struct rm_confprofile *cf_profiles; /* listeners, in file order */
	size_t cf_nprofiles;
	int cf_no_ifaddrs;               /* our_interface_addresses = false */
	int cf_no_implicit;              /* sender_login_implicit = false */
	int cf_login_known;              /* sender_login_mode = "known" */
	char cf_delim[RM_DELIM_MAX + 1]; /* recipient_delimiter, or "" */
	struct rm_limit *cf_limits; /* every limits = ( ) entry, in order */
	size_t cf_nlimits;
	struct rm_confop *cf_ops;
	size_t cf_nops, cf_capops;
	struct rm_strblock *cf_strings; /* the ops' strings, packed */
	int cf_dropped; /* rm_conf_drop_entries(): settings only */
};

/* rm_conf_new - an empty config for path (NULL: out of memory). */
struct rm_conf *rm_conf_new(const char *path);

/*
 * rm_conf_add_op - append an entry; its strings are copied (NULL ones stay
 * NULL).  0, or -1 when out of memory.
 */
int rm_conf_add_op(struct rm_conf *, const struct rm_confop *);

/* rm_conf_strdup - a copy that lives as long as the config. */
const char *rm_conf_strdup(struct rm_conf *, const char *);

/*
 * rm_conf_drop_entries - free the list entries (a big file's worth of
 * memory) once compiled, when nothing will compile this config again;
 * the settings stay.
 */
void rm_conf_drop_entries(struct rm_conf *);

/* rm_settings_clear - free what the settings hold. */
void rm_settings_clear(struct rm_settings *);

#endif
