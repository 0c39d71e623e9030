/*
 * confdata.c - the life of a config as read (confdata.h): its entries,
 * their strings packed in blocks, its settings.
 */
#include <stdlib.h>
#include <string.h>

#include "relaymilter/conf.h"
#include "relaymilter/confdata.h"
#include "relaymilter/ldapconf.h"

/* The ops' strings: packed in blocks, freed with the config. */
#define STR_BLOCK (64 * 1024)
struct rm_strblock {
	struct rm_strblock *sb_next;
	size_t sb_used, sb_size;
	char sb_data[];
};

const char *
rm_conf_strdup(struct rm_conf *cf, const char *s)
{
	struct rm_strblock *b = cf->cf_strings;
	size_t n = strlen(s) + 1, size;

	if (b == NULL || b->sb_size - b->sb_used < n) {
		size = n > STR_BLOCK / 4 ? n : STR_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->sb_used = 0;
		b->sb_size = size;
		if (n > STR_BLOCK / 4 && cf->cf_strings != NULL) {
			/* a big one: keep filling the current block */
			b->sb_next = cf->cf_strings->sb_next;
			cf->cf_strings->sb_next = b;
		} else {
			b->sb_next = cf->cf_strings;
			cf->cf_strings = b;
		}
	}
	memcpy(b->sb_data + b->sb_used, s, n);
	b->sb_used += n;
	return b->sb_data + b->sb_used - n;
}

struct rm_conf *
rm_conf_new(const char *path)
{
	struct rm_conf *cf = calloc(1, sizeof(*cf));
	int i;

	if (cf == NULL || (cf->cf_path = strdup(path ? path : "-")) == NULL) {
		free(cf);
		return NULL;
	}
	cf->cf_settings.st_socket_mode = -1;
	cf->cf_settings.st_log_level = -1;
	cf->cf_settings.st_log_facility = -1;
	cf->cf_settings.st_answer_data = -1;
	cf->cf_settings.st_store_down = -1;
	cf->cf_top.cp_mode = cf->cf_top.cp_require_auth = -1;
	cf->cf_top.cp_max_rcpts = -1;
	cf->cf_top.cp_auth_relay = -1;
	cf->cf_top.cp_grants = -1;
	cf->cf_top.cp_hdr_all = -1;
	for (i = 0; i < RM_CK__COUNT; i++)
		cf->cf_top.cp_check[i] = -1;
	return cf;
}

int
rm_conf_add_op(struct rm_conf *cf, const struct rm_confop *op)
{
	struct rm_confop *v, *o;
	size_t cap;

	if (cf->cf_nops == cf->cf_capops) {
		cap = cf->cf_capops ? cf->cf_capops * 2 : 256;
		if ((v = realloc(cf->cf_ops, cap * sizeof(*v))) == NULL)
			return -1;
		cf->cf_ops = v;
		cf->cf_capops = cap;
	}
	o = &cf->cf_ops[cf->cf_nops];
	*o = *op;
#define COPY(f)                                                                \
	if (op->f != NULL && (o->f = rm_conf_strdup(cf, op->f)) == NULL)       \
		return -1;
	COPY(op_value);
	COPY(op_owner);
	COPY(op_listener);
	COPY(op_reply);
#undef COPY
	/* entries of one file share its name */
	if (op->op_file != NULL &&
	    (cf->cf_nops == 0 || cf->cf_ops[cf->cf_nops - 1].op_file == NULL ||
	     strcmp(cf->cf_ops[cf->cf_nops - 1].op_file, op->op_file) != 0)) {
		if ((o->op_file = rm_conf_strdup(cf, op->op_file)) == NULL)
			return -1;
	} else if (op->op_file != NULL)
		o->op_file = cf->cf_ops[cf->cf_nops - 1].op_file;
	cf->cf_nops++;
	return 0;
}

void
rm_settings_clear(struct rm_settings *st)
{
	free(st->st_socket);
	free(st->st_socket_group);
	free(st->st_control_socket_group);
	free(st->st_pid_file);
	free(st->st_log_file);
	free(st->st_milter_map);
	free(st->st_metrics);
	free(st->st_control_socket);
	free(st->st_store);
	for (size_t i = 0; i < st->st_nfollow; i++) {
		free(st->st_follow[i].fc_file);
		free(st->st_follow[i].fc_pattern);
		free(st->st_follow[i].fc_program);
	}
	free(st->st_follow);
	rm_ldap_conf_free(st->st_ldap);
	memset(st, 0, sizeof(*st));
	st->st_socket_mode = st->st_log_level = st->st_log_facility = -1;
	st->st_answer_data = st->st_store_down = -1;
}

void
rm_conf_free(struct rm_conf *cf)
{
	struct rm_strblock *b, *next;
	size_t i;

	if (cf == NULL)
		return;
	rm_settings_clear(&cf->cf_settings);
	for (i = 0; i < cf->cf_nprofiles; i++) {
		free(cf->cf_profiles[i].cp_name);
		free(cf->cf_profiles[i].cp_origin);
	}
	free(cf->cf_profiles);
	for (i = 0; i < cf->cf_nlimits; i++)
		rm_limit_clear(&cf->cf_limits[i]);
	free(cf->cf_limits);
	free(cf->cf_ops);
	for (b = cf->cf_strings; b != NULL; b = next) {
		next = b->sb_next;
		free(b);
	}
	free(cf->cf_path);
	free(cf);
}

void
rm_conf_drop_entries(struct rm_conf *cf)
{
	struct rm_strblock *b, *next;

	free(cf->cf_ops);
	cf->cf_ops = NULL;
	cf->cf_nops = cf->cf_capops = 0;
	for (b = cf->cf_strings; b != NULL; b = next) {
		next = b->sb_next;
		free(b);
	}
	cf->cf_strings = NULL;
	cf->cf_dropped = 1;
}

const struct rm_settings *
rm_conf_settings(const struct rm_conf *cf)
{
	return &cf->cf_settings;
}
