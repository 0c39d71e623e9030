/*
 * test_reply.c - reply validation, escaping for libmilter, and the log
 * sanitizer that every network value passes before it is logged.
 */
#include <string.h>

#include "check.h"
#include "relaymilter/log.h"
#include "relaymilter/reply.h"

static void
test_parse(void)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	    {"550 5.7.1 Relaying denied", 1},
	    {"451 4.3.0 Try again later", 1},
	    {"553 5.7.1 <x@y>: not authorised", 1},
	    {"554 5.7.1 Relay access denied", 1},
	    {"421 4.3.2 Service shutting down", 1},
	    {"550 5.100.999 odd but valid", 1},
	    {"250 2.0.0 Ok", 0},
	    {"550 4.7.1 class mismatch", 0},
	    {"450 5.7.1 class mismatch", 0},
	    {"550 Relaying denied", 0},
	    {"550 5.7 short", 0},
	    {"550 5.07.1 leading zero", 0},
	    {"550 5.7.1000 too big", 0},
	    {"550 5.7.1", 0},
	    {"550 5.7.1 ", 0},
	    {"55 5.7.1 short code", 0},
	    {"550-5.7.1 multiline", 0},
	    {"550 5.7.1 bad\r\ninjected: yes", 0},
	    {"550 5.7.1 caf\xc3\xa9", 0},
	    {"", 0},
	};
	struct rm_reply r;
	char err[256], big[600];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = rm_reply_parse(cases[i].s, &r, err, sizeof(err));

		CHECK((ret == 0) == cases[i].ok, "\"%s\": %s", cases[i].s,
		      ret ? err : "accepted");
	}
	CHECK(rm_reply_parse("550 5.7.1 Relaying denied", &r, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	CHECK_STR(r.r_code, "550");
	CHECK_STR(r.r_xcode, "5.7.1");
	CHECK_STR(r.r_text, "Relaying denied");
	CHECK(r.r_action == RM_REJECT, "action");
	CHECK(rm_reply_parse("451 4.3.0 later", &r, err, sizeof(err)) == 0 &&
	          r.r_action == RM_TEMPFAIL,
	      "tempfail action");
	strcpy(big, "550 5.7.1 ");
	memset(big + 10, 'x', 401);
	big[411] = '\0';
	CHECK(rm_reply_parse(big, &r, err, sizeof(err)) != 0, "401-byte text");
	big[410] = '\0';
	CHECK(rm_reply_parse(big, &r, err, sizeof(err)) == 0, "400: %s", err);
	CHECK(rm_reply_parse(NULL, &r, err, sizeof(err)) != 0, "NULL");
}

static void
test_format(void)
{
	struct rm_reply r;
	char err[128], buf[2 * RM_REPLY_TEXT_MAX + 1], line[512];

	rm_reply_parse("550 5.7.1 100% sure, 50%s off", &r, err, sizeof(err));
	CHECK_STR(rm_reply_escape_text(&r, buf, sizeof(buf)),
	          "100%% sure, 50%%s off");
	CHECK_STR(rm_reply_format(&r, line, sizeof(line)),
	          "550 5.7.1 100% sure, 50%s off");
	/* a short buffer never splits an escaped '%' */
	CHECK_STR(rm_reply_escape_text(&r, buf, 5), "100");
	CHECK_STR(rm_action_name(RM_CONTINUE), "continue");
	CHECK_STR(rm_action_name(RM_REJECT), "reject");
	CHECK_STR(rm_action_name(RM_TEMPFAIL), "tempfail");
}

static void
test_sanitize(void)
{
	char buf[32];

	CHECK_STR(rm_log_sanitize("mx.example.com", buf, sizeof(buf)),
	          "mx.example.com");
	CHECK_STR(rm_log_sanitize(NULL, buf, sizeof(buf)), "-");
	CHECK_STR(rm_log_sanitize("a b\"c\\", buf, sizeof(buf)),
	          "a\\x20b\"c\\x5c");
	CHECK_STR(rm_log_sanitize("x\r\nrule=fake", buf, sizeof(buf)),
	          "x\\x0d\\x0arule=fake");
	CHECK_STR(rm_log_sanitize("\xff\x80", buf, sizeof(buf)), "\\xff\\x80");
	/* exactly fits: no cut marker */
	CHECK_STR(rm_log_sanitize("0123456789012345678901234567890", buf,
	                          sizeof(buf)),
	          "0123456789012345678901234567890");
	/* one too many: cut with "...", never inside an escape */
	CHECK_STR(rm_log_sanitize("01234567890123456789012345678901", buf,
	                          sizeof(buf)),
	          "0123456789012345678901234567...");
	CHECK_STR(rm_log_sanitize("012345678901234567890123456\x01\x02", buf,
	                          sizeof(buf)),
	          "012345678901234567890123456...");
	CHECK_STR(rm_log_sanitize("abcdef", buf, 4), "abc");
	CHECK_STR(rm_log_sanitize("abcdefgh", buf, 6), "ab...");
}

static void
test_expand(void)
{
	const char *vals[RM_RV__COUNT] = {
	    "a@example.com", "alice",         NULL,
	    "192.0.2.1",     "u@remote.test", "bob@example.com"};
	struct rm_reply t, out;
	char err[200], big[600];

	CHECK(rm_reply_parse("553 5.7.1 <{sender}> by {login} at {client} "
	                     "to <{rcpt}> helo {helo}",
	                     &t, err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(t.r_has_vars, "placeholders seen");
	rm_reply_expand(&t, vals, &out);
	CHECK_STR(out.r_text, "<a@example.com> by alice at 192.0.2.1 to "
	                      "<u@remote.test> helo unknown");
	CHECK_STR(out.r_code, "553");
	CHECK(!out.r_has_vars, "expanded");
	CHECK(rm_reply_parse("550 5.7.1 From: <{from}> is not {login}'s", &t,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	rm_reply_expand(&t, vals, &out);
	CHECK_STR(out.r_text, "From: <bob@example.com> is not alice's");
	/* unknown placeholders are load errors, other braces are text */
	CHECK(rm_reply_parse("550 5.7.1 <{hello}>", &t, err, sizeof(err)) !=
	              0 &&
	          strstr(err, "{hello}") != NULL,
	      "unknown placeholder: %s", err);
	CHECK(rm_reply_parse("550 5.7.1 {} {1} {A} {", &t, err, sizeof(err)) ==
	              0 &&
	          !t.r_has_vars,
	      "literal braces: %s", err);
	/* hostile values: control and 8-bit bytes become '?', long ones cut */
	CHECK(rm_reply_parse("550 5.7.1 <{helo}>", &t, err, sizeof(err)) == 0,
	      "%s", err);
	vals[RM_RV_HELO] = "a\r\n550 b\xff%s";
	rm_reply_expand(&t, vals, &out);
	CHECK_STR(out.r_text, "<a??550 b?%s>");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vals[RM_RV_HELO] = big;
	rm_reply_expand(&t, vals, &out);
	CHECK(strlen(out.r_text) == 1 + RM_REPLY_VAR_MAX + 3 + 1,
	      "value cut at %d: %zu", RM_REPLY_VAR_MAX, strlen(out.r_text));
	CHECK(strstr(out.r_text, "x...>") != NULL, "cut marked: %s",
	      out.r_text);
	/* many long values: the text stays within RM_REPLY_TEXT_MAX */
	CHECK(rm_reply_parse("550 5.7.1 {helo}{helo}{helo}{helo}{helo}", &t,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	rm_reply_expand(&t, vals, &out);
	CHECK(strlen(out.r_text) == RM_REPLY_TEXT_MAX, "text cut: %zu",
	      strlen(out.r_text));
	/* nothing but empty values (the null sender): never an empty text */
	CHECK(rm_reply_parse("550 5.7.1 {sender}{login}", &t, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	vals[RM_RV_SENDER] = "";
	vals[RM_RV_LOGIN] = "";
	rm_reply_expand(&t, vals, &out);
	CHECK_STR(out.r_text, "-");
}

int
main(void)
{
	test_parse();
	test_format();
	test_sanitize();
	test_expand();
	return check_done();
}
