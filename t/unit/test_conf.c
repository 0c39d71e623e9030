/*
 * test_conf.c - the config loader on text in memory: every file of
 * t/conf/good loads from a string as from the file, and every file of
 * t/conf/bad fails with the same "name:line: message" the file gives.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"

static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t n = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if ((text = malloc(1 << 16)) != NULL) {
		n = fread(text, 1, (1 << 16) - 1, fp);
		text[n] = '\0';
	}
	fclose(fp);
	return text;
}

/* same - the file and its text load alike, or fail with one message */
static void
same(const char *path, int good)
{
	struct rm_ruleset *a, *b;
	char *text = slurp(path), ea[1024] = "", eb[1024] = "";

	CHECK(text != NULL, "%s: cannot read", path);
	if (text == NULL)
		return;
	a = rm_conf_load(path, ea, sizeof(ea));
	b = rm_conf_load_string(text, path, eb, sizeof(eb));
	CHECK((a != NULL) == good, "%s: file: %s", path, a ? "loaded" : ea);
	CHECK((b != NULL) == good, "%s: string: %s", path, b ? "loaded" : eb);
	CHECK_STR(eb, ea);
	if (a != NULL && b != NULL)
		CHECK_STR(b->rs_source, a->rs_source);
	if (a != NULL)
		rm_ruleset_release(a);
	if (b != NULL)
		rm_ruleset_release(b);
	free(text);
}

static void
each(const char *dir, int good)
{
	struct dirent *d;
	char path[1024];
	size_t n, count = 0;
	DIR *dp = opendir(dir);

	CHECK(dp != NULL, "%s: cannot open", dir);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		n = strlen(d->d_name);
		if (n < 5 || strcmp(d->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		same(path, good);
		count++;
	}
	closedir(dp);
	CHECK(count > 0, "%s: no .conf", dir);
}

static void
test_names(void)
{
	static const char bad[] = "local_domains = [ \"example.com\" ];\n"
	                          "\n"
	                          "local_domain = [ \"example.org\" ];\n";
	struct rm_ruleset *rs;
	char err[256];

	rs = rm_conf_load_string(bad, "fuzz-input", err, sizeof(err));
	CHECK(rs == NULL, "an unknown key loaded");
	CHECK(strncmp(err, "fuzz-input:3: ", 14) == 0, "%s", err);
	rs = rm_conf_load_string("local_domains = [ \"example.com\" ;", NULL,
	                         err, sizeof(err));
	CHECK(rs == NULL, "a syntax error loaded");
	CHECK(strncmp(err, "-:1: ", 5) == 0, "%s", err);
	rs = rm_conf_load_string("", "empty", err, sizeof(err));
	CHECK(rs == NULL, "an empty policy loaded");
	CHECK(strncmp(err, "empty: empty policy", 19) == 0, "%s", err);
	rs = rm_conf_load_string("hostnames = [ \"mx.example.com\" ];\n"
	                         "trusted_networks = [ \"192.0.2.0/24\" ];\n",
	                         "mem", err, sizeof(err));
	CHECK(rs != NULL, "%s", err);
	if (rs != NULL) {
		CHECK_STR(rs->rs_source, "mem");
		rm_ruleset_release(rs);
	}
}

int
main(void)
{
	each(RM_TEST_DIR "/conf/good", 1);
	each(RM_TEST_DIR "/conf/bad", 0);
	same(RM_TEST_DIR "/golden/policy.conf", 1);
	test_names();
	return check_done();
}
